"""The website chat widget's channel: Rasa's socket.io channel plus the widget's files.

Why a subclass and not stock ``socketio``:

* It serves the widget (``widget.js``, ``widget.css``), the socket.io client from the npm
  package installed into ``web/node_modules`` and a demo clinic page from the same origin as
  the socket, so a clinic embeds one ``<script>`` tag and nothing loads from a CDN.
* A new conversation opens with the disclaimer as soon as the widget connects (Rasa would
  only start the session at the patient's first message).
* Rasa 3.6 does not await ``enter_room`` (a coroutine in the python-socketio 5.18 it installs),
  so with ``session_persistence`` the socket never joins its conversation's room and the
  replies are lost; here it is awaited.
* Rasa 3.6's ``SocketIOOutput.send_custom_json`` passes the payload to ``sio.emit`` as
  keyword arguments, which fails for the escalation payload (``{"mesoguide": ...}``); here it
  is emitted as ``{"custom": ...}`` after the reply's text, which the widget uses to show
  escalations distinctly.

The widget is our own small plain-JS file (``web/widget/``), not an npm chat widget; the
README ("Website chat widget") records why.
"""

from __future__ import annotations

import inspect
import logging
import os
import re
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncRedisManager, AsyncServer

from mesoguide.channels.staff import ConversationAddressed, staff_of
from mesoguide.conversation_ids import conversation_id
from mesoguide.knowledge import default_knowledge
from mesoguide.knowledge.models import ClinicInfo
from mesoguide.logsafe import hashed
from mesoguide.paths import REPO_ROOT

logger = logging.getLogger(__name__)

WEB_DIR = REPO_ROOT / "web"
# Session ids the widget may ask to resume: what it was given (uuid4 hex), nothing with separators.
_SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
#: Files the widget's blueprint serves, by URL name: (path, MIME type).
STATIC_FILES: dict[str, tuple[Path, str]] = {
    "widget.js": (WEB_DIR / "widget" / "mesoguide-widget.js", "application/javascript"),
    "widget.css": (WEB_DIR / "widget" / "mesoguide-widget.css", "text/css"),
    "socket.io.min.js": (
        WEB_DIR / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js",
        "application/javascript",
    ),
    "demo": (WEB_DIR / "demo" / "index.html", "text/html"),
}


#: What the widget reads at start: which phone numbers and which https domains become links.
WIDGET_CONFIG = "widget-config.json"
# The number at the start of a clinic value ("+44 20 7946 0000 (on-call)" -> "+44 20 7946 0000").
_NUMBER = re.compile(r"\+?\(?\d[\d ().-]*\d|\d")


def phone_number_in(value: str) -> str | None:
    """The dialable number a clinic.yml value starts with, as written there; None if none."""
    found = _NUMBER.search(value)
    if found is None:
        return None
    return found.group(0)


def widget_config(clinic: ClinicInfo) -> dict[str, list[str]]:
    """The widget's link rules, from the clinic's own facts (nothing else becomes a link).

    ``phones``: the clinic's, the out-of-hours and the emergency number, exactly as they appear
    in the texts, so the widget links those characters and nothing else. ``link_domains``: the
    booking link's domain and ``clinic.link_domains``.
    """
    phones = [phone_number_in(v) for v in (clinic.phone, clinic.out_of_hours.phone, clinic.emergency_number)]
    domains = list(clinic.link_domains)
    booking = urlsplit(clinic.booking_url)
    if booking.scheme == "https" and booking.hostname and booking.hostname not in domains:
        domains.insert(0, booking.hostname)
    # Longest first: a number that contains a shorter one is linked whole.
    return {"phones": sorted({p for p in phones if p}, key=lambda p: (-len(p), p)), "link_domains": domains}


async def _serve_widget_config(_: Request) -> HTTPResponse:
    return response.json(widget_config(default_knowledge().clinic), headers={"Cache-Control": "no-cache"})


#: With several Rasa servers (the production profile), a message for a widget may be sent by a
#: server other than the one its socket is connected to: a staff member's message goes through
#: whichever server the dashboard reached. With this Redis URL set, every server's socket.io
#: emits reach the sockets of all (python-socketio's Redis manager). A server delivers to its own
#: sockets first and publishes for the others after, so a Redis outage only delays what crosses
#: servers; replies to a patient's own message are always sent by the server that has the socket.
ENV_SOCKETIO_REDIS_URL = "MESOGUIDE_SOCKETIO_REDIS_URL"
#: The Redis pub/sub channel the servers share rooms through.
SOCKETIO_CHANNEL = "mesoguide-socketio"


def share_rooms(sio: AsyncServer, redis_url: str | None) -> None:
    """Give ``sio`` python-socketio's Redis manager when ``redis_url`` is set (before first use)."""
    if not redis_url:
        return
    manager = AsyncRedisManager(redis_url, channel=SOCKETIO_CHANNEL)
    sio.manager = manager
    manager.set_server(sio)


class WebchatOutput(ConversationAddressed, SocketIOOutput):
    """Socket.io output that can send the escalation payload and a staff member's messages."""

    @classmethod
    def name(cls) -> str:
        return WebchatInput.name()

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """A staff member's message whole, with their name; the assistant's as Rasa sends it."""
        staff = staff_of(kwargs)
        if staff is None:
            await super().send_text_message(recipient_id, text, **kwargs)
            return
        await self.sio.emit(self.bot_message_evt, {"text": text, **staff}, room=recipient_id)

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        """Emits ``{"custom": json_message}`` as its own ``bot_uttered`` event."""
        await self.sio.emit(self.bot_message_evt, {"custom": json_message}, room=recipient_id)


class WebchatInput(SocketIOInput):
    """Socket.io channel of the website widget (credentials key: this class's module path)."""

    @classmethod
    def name(cls) -> str:
        return "webchat"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._bound: dict[str, str] = {}  # socket id -> the session it was confirmed for

    def get_output_channel(self) -> WebchatOutput | None:
        """The output for messages sent outside a socket event (e.g. triggered intents)."""
        return WebchatOutput(self.sio, self.bot_message_evt) if self.sio is not None else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Rasa's socket.io blueprint, with our output, session start and static files."""
        blueprint = super().blueprint(on_new_message)
        sio = self.sio
        assert sio is not None  # set by super().blueprint
        share_rooms(sio, os.environ.get(ENV_SOCKETIO_REDIS_URL))
        app_holder: dict[str, Sanic] = {}

        @blueprint.listener("before_server_start")
        async def remember_app(app: Sanic, _loop: Any) -> None:
            app_holder["app"] = app

        # Replace the parent's handlers: same protocol, our output channel.
        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: str, data: dict | None) -> None:
            await self._confirm_session(sid, data, app_holder.get("app"))

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: str, data: dict) -> None:
            await self._handle_message(sid, data, on_new_message)

        @sio.on("disconnect", namespace=self.namespace)
        async def disconnect(sid: str, *_: Any) -> None:
            self._bound.pop(sid, None)

        for name, (path, mime) in STATIC_FILES.items():
            blueprint.add_route(_static_handler(path, mime), f"/{name}", methods=["GET"], name=f"static_{name.replace('.', '_')}")
        blueprint.add_route(_serve_widget_config, f"/{WIDGET_CONFIG}", methods=["GET"], name="widget_config")
        return blueprint

    async def _confirm_session(self, sid: str, data: dict | None, app: Sanic | None) -> None:
        """Joins the socket to its conversation and opens a new one with the disclaimer."""
        assert self.sio is not None
        data = data if isinstance(data, dict) else {}
        session_id = data.get("session_id")
        if not isinstance(session_id, str) or not _SESSION_ID.match(session_id):
            session_id = uuid.uuid4().hex
        # The socket may only ever write to the conversation it was confirmed for.
        self._bound[sid] = session_id
        if self.session_persistence:
            # A coroutine in python-socketio 5.18 (Rasa 3.6 calls it without await, so stock
            # session persistence never joins the room and replies go nowhere).
            # Both names of the conversation: replies to a message go to the id the channel
            # gave (session_id); the session start goes to the tracker's namespaced id.
            for room in (session_id, conversation_id(self.name(), session_id)):
                joined = self.sio.enter_room(sid, room)
                if inspect.isawaitable(joined):
                    await joined
        await self.sio.emit("session_confirm", session_id, room=sid)
        if self.session_persistence and app is not None:
            await _start_session(app, session_id, WebchatOutput(self.sio, self.bot_message_evt))

    async def _handle_message(
        self, sid: str, data: Any, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> None:
        assert self.sio is not None
        if not isinstance(data, dict):
            logger.warning("webchat: ignored a malformed message from socket %s", sid)
            return
        sender_id = self._bound.get(sid) if self.session_persistence else sid
        if not sender_id:
            logger.warning("webchat: message on a socket without a session ignored (send session_request first)")
            return
        if data.get("session_id") not in (None, sender_id):
            logger.warning("webchat: a socket named another session than its own; its own was used")
        text = data.get("message", "")
        metadata = data.get(self.metadata_key) or {}
        await on_new_message(
            UserMessage(
                text if isinstance(text, str) else str(text),
                WebchatOutput(self.sio, self.bot_message_evt),
                sender_id,
                input_channel=self.name(),
                metadata=metadata if isinstance(metadata, dict) else {},
            )
        )


async def _start_session(app: Sanic, session_id: str, output: WebchatOutput) -> None:
    """Runs ``action_session_start`` for a conversation that has none yet (the disclaimer).

    A reconnecting widget (page reload) finds its session and gets nothing new; an expired
    session starts again, as it would at the next message.
    """
    agent = getattr(app.ctx, "agent", None)
    if agent is None or agent.processor is None:
        return
    try:
        async with agent.lock_store.lock(session_id):
            conversation = conversation_id(WebchatInput.name(), session_id)
            tracker = await agent.processor.fetch_tracker_and_update_session(conversation, output)
            await agent.processor.save_tracker(tracker)
    except Exception:  # the first message starts the session anyway
        logger.exception("webchat: could not start the session %s at connect", hashed(session_id))


def _static_handler(path: Path, mime: str) -> Callable[[Request], Awaitable[HTTPResponse]]:
    async def serve(_: Request) -> HTTPResponse:
        if not path.is_file():
            return response.text(
                f"{path.name} is missing: run `make setup` (npm ci in web/) or check the checkout.",
                status=404,
            )
        return await response.file(path, mime_type=mime, headers={"Cache-Control": "no-cache"})

    return serve
