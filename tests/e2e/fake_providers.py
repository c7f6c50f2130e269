"""A fake Telegram Bot API and Twilio REST API on loopback that record what they are sent.

The channels are pointed here with ``TELEGRAM_API_URL`` / ``TWILIO_API_URL`` (as a deployment
could point them at a proxy), so the end-to-end tests see the real outbound HTTP calls that
aiogram and the twilio client make, without patching anything.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

TELEGRAM_TOKEN = "123456789:AAFakeTokenForTestsOnly-abcdefghijklmn"
TELEGRAM_SECRET = "test-secret_token-0123456789"
TWILIO_SID = "AC" + "0" * 32
TWILIO_AUTH_TOKEN = "f" * 32
TWILIO_NUMBER = "+15005550006"
TWILIO_WEBHOOK_URL = "https://assistant.clinic.example/webhooks/twilio/webhook"


@dataclass
class Call:
    """One request the fake provider received."""

    provider: str  # "telegram" or "twilio"
    method: str  # Bot API method ("sendMessage") or "Messages.json"
    fields: dict[str, str]


class FakeProviders:
    """Both fake APIs on one loopback port. Use as a context manager."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._cond = threading.Condition()
        self._ids = itertools.count(1)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def channel_env(self) -> dict[str, str]:
        """Environment that turns both channels on, pointed at this fake."""
        return {
            "TELEGRAM_ACCESS_TOKEN": TELEGRAM_TOKEN,
            "TELEGRAM_SECRET_TOKEN": TELEGRAM_SECRET,
            "TELEGRAM_WEBHOOK_URL": "https://assistant.clinic.example/webhooks/telegram/webhook",
            "TELEGRAM_API_URL": self.url,
            "TWILIO_ACCOUNT_SID": TWILIO_SID,
            "TWILIO_AUTH_TOKEN": TWILIO_AUTH_TOKEN,
            "TWILIO_NUMBER": TWILIO_NUMBER,
            "TWILIO_WEBHOOK_URL": TWILIO_WEBHOOK_URL,
            "TWILIO_API_URL": self.url,
        }

    def __enter__(self) -> FakeProviders:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def sent_to(self, provider: str, recipient: str) -> list[Call]:
        """Messages sent to one chat (Telegram chat_id) or phone (Twilio To)."""
        key = "chat_id" if provider == "telegram" else "To"
        method = "sendMessage" if provider == "telegram" else "Messages.json"
        with self._cond:
            return [c for c in self.calls if c.provider == provider and c.method == method and c.fields.get(key) == recipient]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 30.0) -> bool:
        """Waits until ``predicate()`` is true (re-checked on each call received)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def _record(self, call: Call) -> None:
        with self._cond:
            self.calls.append(call)
            self._cond.notify_all()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fields = _fields(self.headers.get("Content-Type") or "", body)
                parts = self.path.strip("/").split("/")
                if parts[0].startswith("bot"):
                    method = parts[-1]
                    fake._record(Call("telegram", method, fields))
                    self._json(200, {"ok": True, "result": _telegram_result(method, fields, next(fake._ids))})
                elif self.path.endswith("/Messages.json"):
                    fake._record(Call("twilio", "Messages.json", fields))
                    self._json(201, _twilio_message(fields, next(fake._ids)))
                else:
                    self._json(404, {"error": self.path})

            def _json(self, status: int, payload: Any) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


def _fields(content_type: str, body: bytes) -> dict[str, str]:
    if content_type.startswith("multipart/"):
        message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
        return {
            part.get_param("name", header="content-disposition"): part.get_content()
            for part in message.iter_parts()
        }
    if content_type.startswith("application/json"):
        return {k: v if isinstance(v, str) else json.dumps(v) for k, v in json.loads(body or b"{}").items()}
    return {k: v[-1] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}


def _telegram_result(method: str, fields: dict[str, str], message_id: int) -> Any:
    if method == "sendMessage":
        return {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": int(fields.get("chat_id", "0")), "type": "private"},
            "text": fields.get("text", ""),
        }
    if method == "getMe":
        return {"id": 123456789, "is_bot": True, "first_name": "MesoGuide", "username": "mesoguide_bot"}
    return True


def _twilio_message(fields: dict[str, str], number: int) -> dict[str, Any]:
    return {
        "sid": f"SM{number:032d}",
        "account_sid": TWILIO_SID,
        "to": fields.get("To"),
        "from": fields.get("From"),
        "body": fields.get("Body"),
        "status": "queued",
        "num_segments": "1",
        "direction": "outbound-api",
        "api_version": "2010-04-01",
        "uri": f"/2010-04-01/Accounts/{TWILIO_SID}/Messages/SM{number:032d}.json",
    }
