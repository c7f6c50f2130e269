"""The action server accepts only calls from the Rasa server: a shared secret on every call.

Rasa sends its action endpoint's ``token`` (endpoints.yml, ``token: ${MESOGUIDE_ACTION_TOKEN}``)
as the query parameter ``token`` of every call. The action server compares it in constant time;
a call without it, or with another, gets 401 and runs nothing. A call whose body is not JSON
(``Content-Type: application/json``) gets 415: a web page in a staff browser can post
``text/plain`` across origins without asking, never JSON. ``/health`` stays open: it says
nothing but "ok".

The server refuses to start without a token of at least 16 characters: closed by default.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any

from sanic import Sanic, response
from sanic.request import Request

from mesoguide.errors import ActionTokenError

ENV_ACTION_TOKEN = "MESOGUIDE_ACTION_TOKEN"
MIN_TOKEN_CHARS = 16
OPEN_PATHS = frozenset({"/health"})


def action_token(env: Mapping[str, str]) -> str:
    """The shared secret from the environment.

    Raises:
        ActionTokenError: It is unset or shorter than :data:`MIN_TOKEN_CHARS`.
    """
    token = (env.get(ENV_ACTION_TOKEN) or "").strip()
    if len(token) < MIN_TOKEN_CHARS:
        raise ActionTokenError(
            f"{ENV_ACTION_TOKEN} must be set ({MIN_TOKEN_CHARS}+ characters) for the action server and the Rasa "
            "server (endpoints.yml: action_endpoint.token); `make run` sets a random one"
        )
    return token


def call_problem(request: Request, token: str) -> tuple[int, str] | None:
    """Why a call to the action server is refused (status, reason), or None to let it run."""
    if request.path in OPEN_PATHS:
        return None
    given = request.args.get("token") or ""
    if not hmac.compare_digest(given.encode(), token.encode()):
        return 401, "unauthorized: the action server only runs actions for its Rasa server"
    if request.method == "POST" and (request.content_type or "").split(";")[0].strip() != "application/json":
        return 415, "the body must be application/json"
    return None


def install(app: Sanic, token: str) -> None:
    """Refuse every call without the shared secret (see the module docstring)."""

    async def check(request: Request) -> Any:
        problem = call_problem(request, token)
        return response.json({"error": problem[1]}, status=problem[0]) if problem else None

    app.register_middleware(check, "request")
