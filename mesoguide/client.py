"""A client for a running assistant: chat over REST, read each turn's outcome from the tracker.

Used by the end-to-end tests and the latency benchmark (and by the evaluation), so they
all talk to the assistant exactly as a channel does.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from mesoguide.constants import SLOT_TURN_OUTCOME
from mesoguide.conversation_ids import conversation_id
from mesoguide.runtime.http_guard import ENV_REST_TOKEN
from mesoguide.stack import StackConfig


@dataclass
class Turn:
    """One patient message and what came back."""

    text: str
    replies: list[dict[str, Any]]
    outcome: str | None
    seconds: float


class LiveAssistant:
    """Talks to a running Rasa server the way a website or app channel does."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config

    def post(self, path: str, payload: Any, *, timeout: float = 30) -> tuple[int, Any]:
        """POST ``payload`` as JSON (with the REST token when the stack requires one)."""
        headers = {"Content-Type": "application/json"}
        rest_token = self.config.env.get(ENV_REST_TOKEN)
        if rest_token:
            headers["Authorization"] = f"Bearer {rest_token}"
        request = urllib.request.Request(
            self.config.rasa_url + path, data=json.dumps(payload).encode(), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")

    def get(self, path: str, *, token: bool = True) -> tuple[int, Any]:
        url = self.config.rasa_url + path
        if token:
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode({"token": self.config.auth_token})
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")

    def say(self, sender: str, text: str) -> Turn:
        """Send one message over the REST channel and read this turn's ``turn_outcome``."""
        started = time.perf_counter()
        status, replies = self.post("/webhooks/rest/webhook", {"sender": sender, "message": text})
        seconds = time.perf_counter() - started
        if status != 200:
            raise AssertionError(f"REST channel answered {status}: {replies}")
        return Turn(text=text, replies=replies, outcome=self.turn_outcome(sender), seconds=seconds)

    def tracker(self, sender: str, channel: str = "rest") -> dict[str, Any]:
        """The tracker of ``sender`` on ``channel`` (conversation ids are namespaced by channel)."""
        sender = conversation_id(channel, sender)
        # Sanic 21.12 does not percent-decode path parameters: "+" and ":" (phone numbers,
        # "whatsapp:+1...") must go as they are, or another (empty) conversation is read.
        status, tracker = self.get(f"/conversations/{urllib.parse.quote(sender, safe='+:@')}/tracker")
        if status != 200:
            raise AssertionError(f"tracker read-out answered {status}: {tracker}")
        return tracker

    def turn_outcome(self, sender: str, channel: str = "rest") -> str | None:
        """The ``turn_outcome`` set after the latest user message (None if the turn set none)."""
        events = self.tracker(sender, channel)["events"]
        last_user = max((i for i, e in enumerate(events) if e["event"] == "user"), default=-1)
        values = [
            e["value"] for e in events[last_user + 1:] if e["event"] == "slot" and e["name"] == SLOT_TURN_OUTCOME
        ]
        return values[-1] if values else None
