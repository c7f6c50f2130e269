"""The dashboard's live chats: the list, one chat with its transcript, take over, write, hand back.

The routes live here so :mod:`.app` stays about log-in and the escalation queue; they use the
same middleware (log-in required, CSRF on every POST, security headers). The pages work without
script; ``live.js`` (first-party, the only script the CSP allows) adds new lines to an open chat
as they come, so staff see the patient's replies without reloading.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, file, html, json, redirect
from sqlalchemy.engine import Engine

from mesoguide.dashboard import pages
from mesoguide.escalations.models import EscalationRecord
from mesoguide.escalations.store import EscalationStore, make_engine
from mesoguide.logsafe import hashed
from mesoguide.takeover import TakeoverError, TakeoverService
from mesoguide.takeover.live import DEFAULT_LIVE_MINUTES, live_conversations, recent_conversations

SCRIPT = Path(__file__).parent / "static" / "live.js"


@dataclass(frozen=True)
class LiveDesk:
    """What the live chat pages need.

    Attributes:
        service: The takeover steps (Rasa's API and the takeover records).
        tracker_engine: Rasa's SQL tracker store, read for the list of live conversations.
        live_minutes: A conversation is listed while its last event is this recent.
    """

    service: TakeoverService
    tracker_engine: Engine
    live_minutes: int = DEFAULT_LIVE_MINUTES

    @classmethod
    def from_env(cls, store: EscalationStore, env: Mapping[str, str] | None = None) -> LiveDesk:
        """From ``MESOGUIDE_RASA_URL``, ``RASA_AUTH_TOKEN``, ``MESOGUIDE_TRACKER_URL`` and
        ``MESOGUIDE_LIVE_MINUTES``."""
        from mesoguide.escalations.retention import tracker_url
        from mesoguide.knowledge import default_knowledge
        from mesoguide.takeover.rasa_api import RasaConversations
        from mesoguide.takeover.records import TakeoverLog

        env = dict(os.environ if env is None else env)
        service = TakeoverService(
            api=RasaConversations.from_env(env), log=TakeoverLog(engine=store.engine), kb=default_knowledge()
        )
        minutes = int(env.get("MESOGUIDE_LIVE_MINUTES") or DEFAULT_LIVE_MINUTES)
        return cls(service=service, tracker_engine=make_engine(tracker_url(env)), live_minutes=minutes)


def add_routes(app: Sanic, store: EscalationStore, desk: LiveDesk) -> None:
    """The live chat routes (log-in and CSRF are the app's middleware)."""

    @app.get("/live")
    async def live_list(request: Request) -> HTTPResponse:
        recent = recent_conversations(desk.tracker_engine, minutes=desk.live_minutes)
        rows = live_conversations(recent, _open_escalations(store), desk.service.log.active_all())
        return html(pages.live_page(rows, minutes=desk.live_minutes, user=request.ctx.user, csrf=request.ctx.csrf))

    @app.get("/chat")
    async def chat(request: Request) -> HTTPResponse:
        return await _chat_page(request, request.args.get("c") or "")

    async def _chat_page(request: Request, cid: str, *, error: str | None = None, status: int = 200) -> HTTPResponse:
        if not cid:
            page = pages.message_page("Live chat", "No conversation was named.", user=request.ctx.user, csrf=request.ctx.csrf)
            return html(page, status=400)
        try:
            tracker, lines = await desk.service.view(cid)
        except TakeoverError as exc:
            tracker, lines, error, status = {}, [], str(exc), 502
        held = desk.service.log.active(cid)
        store.audit(request.ctx.user, "chat_viewed", hashed(cid))
        request.ctx.runs_script = True  # live.js: the page's CSP allows this origin's script
        page = pages.chat_page(
            cid, lines, held=held, paused=bool(tracker.get("paused")), channel=tracker.get("latest_input_channel"),
            escalation=store.unresolved(cid), user=request.ctx.user, csrf=request.ctx.csrf, error=error,
        )
        return html(page, status=status)

    @app.get("/chat/lines")
    async def chat_lines(request: Request) -> HTTPResponse:
        cid = request.args.get("c") or ""
        after = _int(request.args.get("after"), -1)
        try:
            tracker, lines = await desk.service.view(cid)
        except TakeoverError as exc:
            return json({"error": str(exc)}, status=502)
        held = desk.service.log.active(cid)
        return json({
            "lines": [line for line in lines if line["index"] > after],
            "paused": bool(tracker.get("paused")),
            "holder": held["staff_user"] if held else None,
        })

    async def step(request: Request, run: Callable[[str, str], Awaitable[object]], audit: str | None) -> HTTPResponse:
        """One takeover step on the form's conversation: back to the chat, or the chat with why not."""
        cid = request.form.get("c") or ""
        try:
            await run(cid, request.ctx.user)
        except TakeoverError as exc:
            return await _chat_page(request, cid, error=str(exc), status=409)
        if audit:
            store.audit(request.ctx.user, audit, hashed(cid))
        return redirect(_chat_url(cid))

    @app.post("/chat/takeover")
    async def take_over(request: Request) -> HTTPResponse:
        name = request.form.get("name") or ""
        return await step(request, lambda cid, user: desk.service.take_over(cid, user=user, name=name), "chat_taken_over")

    @app.post("/chat/send")
    async def send(request: Request) -> HTTPResponse:
        text = request.form.get("text") or ""
        return await step(request, lambda cid, user: desk.service.send(cid, user=user, text=text), None)

    @app.post("/chat/handback")
    async def hand_back(request: Request) -> HTTPResponse:
        return await step(request, lambda cid, user: desk.service.hand_back(cid, user=user), "chat_handed_back")

    @app.get("/static/live.js")
    async def script(request: Request) -> HTTPResponse:
        return await file(SCRIPT, mime_type="application/javascript", headers={"Cache-Control": "no-cache"})


def _open_escalations(store: EscalationStore) -> dict[str, EscalationRecord]:
    """The newest unresolved escalation of each conversation."""
    found: dict[str, EscalationRecord] = {}
    for record in store.list():
        if record["status"] != "resolved":
            found.setdefault(record["conversation_id"], record)
    return found


def _chat_url(cid: str) -> str:
    return f"/chat?c={quote(cid, safe='')}"


def _int(value: str | None, default: int) -> int:
    try:
        return int(value or "")
    except ValueError:
        return default
