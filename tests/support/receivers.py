"""Real local receivers for notifications: an HTTP webhook endpoint and an SMTP server
(aiosmtpd), both on loopback ports, recording what arrives."""

from __future__ import annotations

import json
import threading
import time
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


class WebhookReceiver:
    """Accepts JSON POSTs on ``url`` and keeps them in :attr:`received`.

    Args:
        port: The port to listen on (start/stop can be repeated on the same port to simulate
            an outage).
    """

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}/hook"
        self.received: list[dict[str, Any]] = []
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> WebhookReceiver:
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                received.append({"path": self.path, "content_type": self.headers.get("Content-Type"), "json": json.loads(body)})
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def wait_for(self, count: int, timeout: float = 30.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.received

    def wait_for_reference(self, reference: str, timeout: float = 30.0) -> dict[str, Any] | None:
        """The first notification about ``reference``, waiting up to ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = next((h for h in list(self.received) if h["json"].get("mesoguide", {}).get("reference") == reference), None)
            if found:
                return found
            time.sleep(0.1)
        return None


class SmtpReceiver:
    """A real SMTP server (aiosmtpd) on loopback; messages land in :attr:`messages`."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.messages: list[Message] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._controller: Controller | None = None

    def start(self) -> SmtpReceiver:
        receiver = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                receiver.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
                receiver.messages.append(message_from_bytes(envelope.content))
                return "250 Message accepted"

        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller:
            self._controller.stop()
            self._controller = None
