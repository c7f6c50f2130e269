"""The Rasa server's HTTP front door: body limits, malformed bodies, REST token, REST rate limit.

Installed on Rasa's Sanic app by the project's entry point for the Rasa server
(:mod:`mesoguide.runtime.rasa_server`), before any channel sees a request:

* every request body is capped (``MESOGUIDE_MAX_BODY_BYTES``, default 2 MB: a message of a
  million characters still arrives and gets its reply; the message-length cap of
  :mod:`mesoguide.runtime.never_silent` decides what is parsed);
* a REST body must be a JSON object with a ``sender`` (1-128 characters) and a text
  ``message``; anything else is answered 400 with the reason. ``input_channel`` is refused:
  a REST caller cannot claim to be another channel;
* with ``MESOGUIDE_REST_TOKEN`` set (production refuses to start REST without it), REST needs
  ``Authorization: Bearer <token>``, compared in constant time; otherwise 401;
* each client address may send ``MESOGUIDE_REST_BURST`` REST messages at once and
  ``MESOGUIDE_REST_PER_SECOND`` per second after that; past it, 429 with a friendly text.
"""

from __future__ import annotations

import hmac
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sanic import Sanic, response
from sanic.request import Request

from mesoguide.runtime.rate_limit import RateLimiter

REST_WEBHOOK = "/webhooks/rest/webhook"
MAX_SENDER_CHARS = 128
ENV_REST_TOKEN = "MESOGUIDE_REST_TOKEN"


@dataclass(frozen=True)
class GuardSettings:
    """Limits of the front door (see the module docstring for the variables)."""

    max_body_bytes: int = 2 * 1024 * 1024
    rest_token: str = ""
    rest_burst: int = 30
    rest_per_second: float = 10.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> GuardSettings:
        env = os.environ if env is None else env
        default = cls()
        return cls(
            max_body_bytes=int(env.get("MESOGUIDE_MAX_BODY_BYTES", default.max_body_bytes)),
            rest_token=(env.get(ENV_REST_TOKEN) or "").strip(),
            rest_burst=int(env.get("MESOGUIDE_REST_BURST", default.rest_burst)),
            rest_per_second=float(env.get("MESOGUIDE_REST_PER_SECOND", default.rest_per_second)),
        )


def rest_body_problem(body: bytes) -> str | None:
    """Why a REST body cannot be handled, or None when it can."""
    try:
        data = json.loads(body or b"")
    except (ValueError, UnicodeDecodeError):
        return "the body must be JSON: {\"sender\": \"...\", \"message\": \"...\"}"
    return rest_data_problem(data)


def rest_data_problem(data: Any) -> str | None:
    """Why a parsed REST body cannot be handled, or None when it can."""
    if not isinstance(data, dict):
        return "the body must be a JSON object: {\"sender\": \"...\", \"message\": \"...\"}"
    sender, message = data.get("sender"), data.get("message")
    if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER_CHARS:
        return f"'sender' must be a non-empty string of at most {MAX_SENDER_CHARS} characters"
    if any(ord(ch) < 32 for ch in sender):
        return "'sender' must not contain control characters"
    if not isinstance(message, str):
        return "'message' must be a string"
    if "input_channel" in data:
        return "'input_channel' is not accepted: REST messages belong to the REST channel"
    if "metadata" in data and not isinstance(data["metadata"], dict):
        return "'metadata' must be a JSON object"
    return None


def client_address(request: Request) -> str:
    """The address a request came from, for rate limits and the audit log.

    Behind the profile's nginx every request comes from loopback and nginx sets X-Real-IP;
    elsewhere the header is not trusted (a client could set it to dodge a limit).
    """
    peer = request.ip or "unknown"
    if peer in ("127.0.0.1", "::1"):
        return request.headers.get("x-real-ip", peer)
    return peer


def install(app: Sanic, *, slow_down_text: str, settings: GuardSettings | None = None) -> None:
    """Put the front door on ``app`` (Rasa's Sanic app).

    Args:
        app: Rasa's Sanic app.
        slow_down_text: The reply of a rate-limited REST message (``runtime.slow_down`` of
            ``knowledge/messages.yml``).
        settings: Limits; from the environment by default.
    """
    settings = settings or GuardSettings.from_env()
    app.config.REQUEST_MAX_SIZE = settings.max_body_bytes
    limiter = RateLimiter(burst=settings.rest_burst, per_second=settings.rest_per_second)

    async def guard(request: Request) -> Any:
        if request.path != REST_WEBHOOK or request.method != "POST":
            return None
        if settings.rest_token and not _bearer_matches(request, settings.rest_token):
            return response.json({"error": "unauthorized", "reason": "REST needs Authorization: Bearer <token>"}, status=401)
        # request.json parses once and keeps the result: Rasa's REST handler reads the same one.
        try:
            problem = rest_data_problem(request.json)
        except Exception:  # noqa: BLE001 - Sanic's parse error: the body is not JSON
            problem = rest_body_problem(request.body)
        if problem:
            return response.json({"error": "bad request", "reason": problem}, status=400)
        if not limiter.allow(client_address(request)):
            return response.json(
                [{"recipient_id": "", "text": slow_down_text}],
                status=429,
                headers={"Retry-After": "5"},
            )
        return None

    app.register_middleware(guard, "request")


def _bearer_matches(request: Request, token: str) -> bool:
    header = request.headers.get("authorization", "")
    given = header[7:] if header.lower().startswith("bearer ") else ""
    return hmac.compare_digest(given.encode(), token.encode())
