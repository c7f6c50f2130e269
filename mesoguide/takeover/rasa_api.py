"""The part of Rasa's HTTP API a takeover uses: read a tracker, append events.

The API listens on loopback only and needs the token (``RASA_AUTH_TOKEN``); nginx never routes
``/conversations`` (docs/production.md). Several base URLs may be given (every Rasa server of
the production profile): they share the tracker store and the lock store, and the widget's
socket.io messages reach a patient on any of them (``MESOGUIDE_SOCKETIO_REDIS_URL``), so the
first that answers is used.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

import aiohttp

from mesoguide.takeover.errors import TakeoverError

DEFAULT_RASA_URL = "http://127.0.0.1:5005"
TIMEOUT_S = 10.0


class RasaConversations:
    """A client of the conversations API.

    Args:
        base_urls: The Rasa servers' base URLs, tried in order.
        token: The API token.
    """

    def __init__(self, *, base_urls: Sequence[str], token: str) -> None:
        if not base_urls:
            raise ValueError("at least one Rasa server URL is needed")
        self.base_urls = [u.rstrip("/") for u in base_urls]
        self.token = token

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RasaConversations:
        """From ``MESOGUIDE_RASA_URL`` (comma-separated) and ``RASA_AUTH_TOKEN``."""
        env = os.environ if env is None else env
        urls = [u.strip() for u in (env.get("MESOGUIDE_RASA_URL") or DEFAULT_RASA_URL).split(",") if u.strip()]
        return cls(base_urls=urls, token=env.get("RASA_AUTH_TOKEN", ""))

    async def tracker(self, conversation_id: str) -> dict[str, Any]:
        """The conversation's current state with every event (Rasa's ``GET .../tracker``)."""
        return await self._call("GET", conversation_id, "tracker", {"include_events": "ALL"})

    async def append(self, conversation_id: str, events: list[dict[str, Any]], *, send: bool) -> dict[str, Any]:
        """Append ``events``; with ``send``, Rasa sends their ``bot`` messages through the channel
        the patient last wrote on (``execute_side_effects``, ``output_channel=latest``)."""
        params = {"include_events": "NONE"}
        if send:
            params |= {"execute_side_effects": "true", "output_channel": "latest"}
        return await self._call("POST", conversation_id, "tracker/events", params, body=events)

    async def _call(
        self, method: str, conversation_id: str, path: str, params: dict[str, str], *, body: Any = None
    ) -> dict[str, Any]:
        failures = []
        timeout = aiohttp.ClientTimeout(total=TIMEOUT_S)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            for base in self.base_urls:
                # Sanic 21.12 does not percent-decode path parameters: "+" and ":" (phone numbers,
                # "twilio:whatsapp:+1...") go as they are, or another (empty) conversation is read.
                url = f"{base}/conversations/{quote(conversation_id, safe='+:@')}/{path}"
                try:
                    async with session.request(method, url, params={**params, "token": self.token}, json=body) as reply:
                        if reply.status == 200:
                            data = await reply.json()
                            return data if isinstance(data, dict) else {}
                        failures.append(f"HTTP {reply.status}")
                        if reply.status in (400, 401, 403, 404):
                            break  # every server would say the same
                except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                    failures.append(type(exc).__name__)
        raise TakeoverError(
            f"The assistant's server did not take the request ({', '.join(failures)}). Try again in a moment; "
            "if it keeps failing, call the patient back instead."
        )
