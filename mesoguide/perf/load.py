"""A bounded load generator for a running assistant's REST channel, on loopback.

Conversations run concurrently; inside one conversation the turns are sequential (a patient
waits for the reply before typing again). Every loop is bounded by a message count and a
deadline, and a message that fails or times out is counted, not retried.

Used by ``make bench-compare`` (:mod:`mesoguide.perf.compare`) and ``make chaos``.
"""

from __future__ import annotations

import asyncio
import itertools
import ssl
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from mesoguide.stats import percentile

REQUEST_TIMEOUT_S = 30.0


@dataclass
class Reply:
    """One message sent and what came back.

    Attributes:
        sender: The conversation id.
        turn: 1-based turn number inside the conversation.
        text: What was sent.
        seconds: Round trip time.
        status: HTTP status (0 when no HTTP answer came: connection refused, reset, timeout).
        replies: The bot's messages (REST channel JSON), empty on error.
        error: Why the message failed, if it did.
        finished: ``time.monotonic()`` when the answer (or the failure) came.
    """

    sender: str
    turn: int
    text: str
    seconds: float
    status: int
    replies: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    finished: float = field(default_factory=time.monotonic)

    @property
    def ok(self) -> bool:
        """An HTTP 200 with at least one bot message."""
        return self.status == 200 and bool(self.replies)


@dataclass(frozen=True)
class Target:
    """Where the REST channel is.

    Attributes:
        base_url: ``http://127.0.0.1:5005`` or the public ``https://...`` of nginx.
        cafile: Certificate to trust for https (the profile's self-signed one).
        rest_token: The REST token, where the server requires one (the production profile).
    """

    base_url: str
    cafile: Path | None = None
    rest_token: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        """Headers of every REST call."""
        return {"Authorization": f"Bearer {self.rest_token}"} if self.rest_token else {}

    @property
    def webhook(self) -> str:
        """The REST channel's URL."""
        return self.base_url.rstrip("/") + "/webhooks/rest/webhook"

    def ssl_context(self) -> ssl.SSLContext | bool:
        """Verification against ``cafile`` for https; plain http needs none."""
        if not self.base_url.startswith("https"):
            return False
        return ssl.create_default_context(cafile=str(self.cafile) if self.cafile else None)


def _session(target: Target, connections: int) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(limit=connections, ssl=target.ssl_context())
    return aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S))


async def send(session: aiohttp.ClientSession, target: Target, sender: str, turn: int, text: str) -> Reply:
    """Send one message; never raises for a network or HTTP failure (it is in the reply)."""
    started = time.perf_counter()
    try:
        async with session.post(target.webhook, json={"sender": sender, "message": text}, headers=target.headers) as response:
            # 200: the bot's messages; 429/503: nginx's "please try again" message, also a reply.
            body = await response.json(content_type=None) if response.status in (200, 429, 503) else None
            status = response.status
            error = None if status == 200 else f"HTTP {status}"
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
        body, status, error = None, 0, f"{type(exc).__name__}: {exc}"
    replies = body if isinstance(body, list) else []
    return Reply(sender, turn, text, time.perf_counter() - started, status, replies, error)


async def _conversation(
    session: aiohttp.ClientSession, target: Target, sender: str, messages: Sequence[str], turns: int, deadline: float
) -> list[Reply]:
    out = []
    for turn, text in enumerate(itertools.islice(itertools.cycle(messages), turns), start=1):
        if time.monotonic() > deadline:
            break
        out.append(await send(session, target, sender, turn, text))
    return out


@dataclass
class LoadResult:
    """All replies of a run and its wall time."""

    replies: list[Reply]
    wall_s: float

    @property
    def ok(self) -> list[Reply]:
        """The messages that got a reply."""
        return [r for r in self.replies if r.ok]

    def summary(self) -> dict[str, float]:
        """msg/s (answered messages over wall time), p50/p95/p99 in ms, failures."""
        ms = [r.seconds * 1000 for r in self.ok] or [float("nan")]
        return {
            "messages": len(self.replies),
            "failed": len(self.replies) - len(self.ok),
            "msg_per_s": len(self.ok) / self.wall_s if self.wall_s else 0.0,
            "p50_ms": percentile(ms, 0.50),
            "p95_ms": percentile(ms, 0.95),
            "p99_ms": percentile(ms, 0.99),
        }

    def per_turn_p50_ms(self, turn: int, window: int = 2) -> float:
        """Median latency of the turns ``turn - window .. turn + window`` (clipped to the turns run).

        A window, not one turn, so one slow sample (a garbage collection, a neighbour's job)
        does not make the figure.
        """
        ms = [r.seconds * 1000 for r in self.ok if abs(r.turn - turn) <= window]
        return percentile(ms, 0.5) if ms else float("nan")


async def run_load(
    target: Target,
    messages: Sequence[str],
    *,
    conversations: int,
    turns: int,
    concurrency: int,
    prefix: str = "load",
    max_seconds: float = 300.0,
) -> LoadResult:
    """``conversations`` conversations of ``turns`` turns, ``concurrency`` of them at a time.

    Args:
        target: The REST channel.
        messages: Cycled through, one per turn.
        conversations: How many conversations in all.
        turns: Turns per conversation.
        concurrency: Conversations in flight at once.
        prefix: Start of every conversation id (unique ids follow it).
        max_seconds: No conversation starts a new turn after this (bounds the run).
    """
    deadline = time.monotonic() + max_seconds
    gate = asyncio.Semaphore(concurrency)
    async with _session(target, concurrency) as session:

        async def one() -> list[Reply]:
            async with gate:
                sender = f"{prefix}-{uuid.uuid4().hex[:12]}"
                return await _conversation(session, target, sender, messages, turns, deadline)

        started = time.perf_counter()
        results = await asyncio.gather(*(one() for _ in range(conversations)))
        wall = time.perf_counter() - started
    return LoadResult([r for conv in results for r in conv], wall)


def load(target: Target, messages: Sequence[str], **kwargs: Any) -> LoadResult:
    """Synchronous :func:`run_load`."""
    return asyncio.run(run_load(target, messages, **kwargs))
