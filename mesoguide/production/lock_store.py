"""Rasa's Redis lock store, made safe for several Rasa servers and for a Redis outage.

Rasa serialises the messages of one conversation with a ticket lock kept in Redis. Rasa 3.6's
``RedisLockStore`` changes a lock with a plain read-modify-write (GET, then SET): two servers
taking a ticket for the same conversation at the same moment can both get the same number, and
both process a turn at once. This subclass:

* changes a lock only inside a Redis transaction (WATCH/MULTI/EXEC, retried when another
  server changed it first), so each ticket number is issued once;
* keeps the tickets of messages it is serving or queueing alive (a heartbeat every third of
  ``ticket_lifetime_s``), so a short lifetime is safe for slow turns, while the tickets of a
  server that was killed expire within ``ticket_lifetime_s`` instead of Rasa's 60 s;
* polls for its turn every ``poll_s`` (Rasa waits a whole second between attempts);
* waits up to ``outage_wait_s`` for Redis when it is unreachable, without blocking the event
  loop, then raises ``LockError`` (the message is refused, never processed unlocked); a lock
  that vanished while queued (Redis restarted empty) is taken again with a new ticket.

Configured in the generated endpoints file (``lock_store: type:`` this class's path).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import redis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LockError, RedisLockStore

logger = logging.getLogger(__name__)

T = TypeVar("T")
#: Redis errors that mean "not reachable right now" (wait and retry), not "wrong request".
OUTAGE_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, redis.exceptions.BusyLoadingError)


class AtomicRedisLockStore(RedisLockStore):
    """Ticket locks in Redis with atomic updates, heartbeats and outage waits.

    Args:
        host: Redis host (``url`` in the endpoints file).
        port: Redis port.
        db: Redis database number.
        password: Redis password.
        key_prefix: Alphanumeric prefix of the lock keys.
        outage_wait_s: How long to wait for an unreachable Redis before refusing a message.
        ticket_lifetime_s: How long a ticket lives without a heartbeat.
        poll_s: Seconds between checks while waiting for the conversation's turn.
        socket_timeout: Seconds before a Redis call that gets no answer fails.
        endpoint_config: Rasa's endpoint record; its ``url`` and keys override the arguments.
        kwargs: Other endpoint keys (``type``, ...), ignored.
    """

    def __init__(
        self,
        host: str = "localhost",
        port: int = 6379,
        db: int = 0,
        password: str | None = None,
        key_prefix: str | None = None,
        outage_wait_s: float = 20.0,
        ticket_lifetime_s: float = 10.0,
        poll_s: float = 0.05,
        socket_timeout: float = 2.0,
        endpoint_config: Any = None,
        **kwargs: Any,
    ) -> None:
        if endpoint_config is not None:
            # Rasa builds a lock store of a custom type with only ``endpoint_config=``.
            settings = dict(endpoint_config.kwargs)
            host = endpoint_config.url or host
            port = int(settings.get("port", port))
            db = int(settings.get("db", db))
            password = settings.get("password", password)
            key_prefix = settings.get("key_prefix", key_prefix)
            outage_wait_s = float(settings.get("outage_wait_s", outage_wait_s))
            ticket_lifetime_s = float(settings.get("ticket_lifetime_s", ticket_lifetime_s))
        super().__init__(host=host, port=port, db=db, password=password, key_prefix=key_prefix, socket_timeout=socket_timeout)
        self.outage_wait_s = float(outage_wait_s)
        self.ticket_lifetime_s = float(ticket_lifetime_s)
        self.poll_s = float(poll_s)

    # --- atomic changes ----------------------------------------------------------------------

    def _modify(self, conversation_id: str, change: Callable[[TicketLock | None], tuple[TicketLock | None, T]]) -> T:
        """Apply ``change`` to the stored lock inside a WATCH/MULTI transaction.

        ``change`` gets the lock (or None) and returns the lock to store (None deletes it)
        and a result; it runs again when another server changed the key in between.
        """
        key = self.key_prefix + conversation_id
        with self.red.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    raw = pipe.get(key)
                    lock = TicketLock.from_dict(json.loads(raw)) if raw else None
                    new_lock, result = change(lock)
                    pipe.multi()
                    if new_lock is None or not new_lock.tickets:
                        pipe.delete(key)
                    else:
                        pipe.set(key, new_lock.dumps())
                    pipe.execute()
                    return result
                except redis.exceptions.WatchError:
                    continue

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = 0) -> int:
        """A new ticket, numbered after every ticket already issued for the conversation."""
        lifetime = lock_lifetime or self.ticket_lifetime_s

        def change(lock: TicketLock | None) -> tuple[TicketLock, int]:
            lock = lock or self.create_lock(conversation_id)
            return lock, lock.issue_ticket(lifetime)

        return self._modify(conversation_id, change)

    def _refresh(self, conversation_id: str, ticket: int) -> bool:
        """Extend a ticket's life; False when it is gone (expired, or Redis restarted empty)."""

        def change(lock: TicketLock | None) -> tuple[TicketLock | None, bool]:
            if lock is None:
                return None, False
            found = next((t for t in lock.tickets if t.number == ticket), None)
            if found is not None:
                found.expires = time.time() + self.ticket_lifetime_s
            lock.remove_expired_tickets()
            return lock, found is not None

        return self._modify(conversation_id, change)

    def update_lock(self, conversation_id: str) -> None:
        """Drop expired tickets (atomically)."""

        def change(lock: TicketLock | None) -> tuple[TicketLock | None, None]:
            if lock is not None:
                lock.remove_expired_tickets()
            return lock, None

        self._modify(conversation_id, change)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        """Remove a ticket (atomically); the lock key goes when no ticket is left."""

        def change(lock: TicketLock | None) -> tuple[TicketLock | None, None]:
            if lock is not None:
                lock.remove_ticket_for(ticket_number)
            return lock, None

        self._modify(conversation_id, change)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Same as :meth:`finish_serving`: an empty lock is deleted in the same transaction."""
        self.finish_serving(conversation_id, ticket_number)

    # --- waiting -------------------------------------------------------------------------------

    async def _through_outage(self, call: Callable[[], T], what: str, conversation_id: str) -> T:
        """``call()``, retried while Redis is unreachable, for up to ``outage_wait_s``.

        Raises:
            LockError: Redis stayed unreachable.
        """
        deadline = time.monotonic() + self.outage_wait_s
        delay = 0.1
        while True:
            try:
                return call()
            except OUTAGE_ERRORS as exc:
                if time.monotonic() >= deadline:
                    raise LockError(f"lock store unreachable for {self.outage_wait_s:.0f} s ({what}): {exc}") from None
                logger.warning("lock store unreachable (%s), retrying: %s", what, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)

    @contextlib.asynccontextmanager
    async def lock(
        self, conversation_id: str, lock_lifetime: float = 0, wait_time_in_seconds: float = 0
    ) -> AsyncIterator[TicketLock]:
        """Hold the conversation's lock for the duration of the ``async with`` block.

        ``lock_lifetime`` and ``wait_time_in_seconds`` (Rasa's arguments) are replaced by
        ``ticket_lifetime_s`` with heartbeats and ``poll_s``.

        Raises:
            LockError: Redis stayed unreachable for ``outage_wait_s``.
        """
        ticket = await self._through_outage(lambda: self.issue_ticket(conversation_id), "issue", conversation_id)
        state = {"ticket": ticket}
        heartbeat = asyncio.ensure_future(self._heartbeat(conversation_id, state))
        try:
            yield await self._wait_for_turn(conversation_id, state)
        finally:
            heartbeat.cancel()
            try:
                await self._through_outage(lambda: self.cleanup(conversation_id, state["ticket"]), "release", conversation_id)
            except LockError:
                # The ticket expires on its own within ticket_lifetime_s (no heartbeat any more).
                logger.error("could not release a conversation lock: Redis unreachable; it expires on its own")

    async def _wait_for_turn(self, conversation_id: str, state: dict[str, int]) -> TicketLock:
        while True:
            lock = await self._through_outage(lambda: self.get_lock(conversation_id), "wait", conversation_id)
            mine = lock is not None and any(t.number == state["ticket"] for t in lock.tickets)
            if not mine:
                # Our ticket is gone (Redis restarted empty, or it expired while Redis was away):
                # queue again rather than drop the message.
                state["ticket"] = await self._through_outage(lambda: self.issue_ticket(conversation_id), "issue", conversation_id)
                continue
            assert lock is not None
            if not lock.is_locked(state["ticket"]):
                return lock
            await asyncio.sleep(self.poll_s)

    async def _heartbeat(self, conversation_id: str, state: dict[str, int]) -> None:
        while True:
            await asyncio.sleep(self.ticket_lifetime_s / 3)
            try:
                self._refresh(conversation_id, state["ticket"])
            except OUTAGE_ERRORS:
                continue  # nothing to keep alive in an unreachable Redis
