"""Rasa's SQL tracker store, made to ride out a database restart and to stop re-reading a
conversation from the database at every turn.

* **Outages.** Rasa wraps every tracker store in ``FailSafeTrackerStore``: when a read fails it
  returns *no* tracker (the conversation starts over) and when a write fails it keeps the turn in
  memory only. Here a failed read or write caused by an unreachable database (a PostgreSQL
  restart) is retried for up to ``outage_wait_s``, with ``pool_pre_ping`` so connections that
  died with the old server are replaced; only after that does Rasa's own handling apply.
* **Cache.** Rasa rebuilds the conversation at every turn: it loads every event of the session,
  decodes its JSON and replays it, which grows with the length of the conversation (a third of
  the Rasa server's time at turn 150). Here the tracker a turn saved is kept in memory and handed
  to the next turn of the same conversation when the database proves it is still current:
  nothing was added to the tracker that was not saved (same number of events) and no event was
  written since (same highest event id for the conversation). When another Rasa server took
  turns since, only their events are read and applied, as Rasa's replay applies them. Anything
  else (a failed turn left unsaved events, a new session began) reads the session from the
  database again, exactly as Rasa does. Turns of one conversation never run at once: the lock store
  serialises them across every Rasa server.

Configured in the generated endpoints file (``tracker_store: type:`` this class's path).
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.events import SessionStarted, deserialise_events
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

logger = logging.getLogger(__name__)

T = TypeVar("T")
#: Database errors that mean "not reachable right now": wait and retry.
OUTAGE_ERRORS = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.DisconnectionError)
DEFAULT_CACHED_CONVERSATIONS = 500


@dataclass
class _Cached:
    tracker: DialogueStateTracker
    events_saved: int  # len(tracker.events) when it was saved
    last_event_id: int  # highest event id of the conversation in the database then


SENDER_ID_INDEX = "ix_events_sender_id_id"


def ensure_index(engine: Any, index: sa.Index, *, attempts: int = 5) -> None:
    """Create ``index`` unless it exists, also while another server creates it at the same time.

    The Rasa servers of the production profile start together on one fresh database: between
    one server's "does it exist?" and its CREATE INDEX, the other may create it, and the loser's
    error used to end its start-up. An error after which the index exists is that race, lost
    harmlessly; any other error is raised after a few tries.
    """
    table = index.table
    assert table is not None
    for attempt in range(attempts):
        try:
            index.create(engine, checkfirst=True)
            return
        except sa.exc.SQLAlchemyError:
            if any(found["name"] == index.name for found in sa.inspect(engine).get_indexes(table.name)):
                return  # another server created it first
            if attempt == attempts - 1:
                raise
            time.sleep(0.2 * (attempt + 1))


class ResilientSQLTrackerStore(SQLTrackerStore):
    """SQL tracker store with outage waits and a verified per-conversation cache.

    Args:
        outage_wait_s: How long a read or write waits for the database to come back.
        cached_conversations: How many conversations' trackers to keep (least recently used go).
        kwargs: Rasa's ``SQLTrackerStore`` arguments (``dialect``, ``host``, ``db``, ...).
    """

    def __init__(
        self, *, outage_wait_s: float = 20.0, cached_conversations: int = DEFAULT_CACHED_CONVERSATIONS, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.outage_wait_s = float(outage_wait_s)
        self.cached_conversations = int(cached_conversations)
        self._cache: collections.OrderedDict[str, _Cached] = collections.OrderedDict()
        # Connections that died with a restarted server are noticed on checkout and replaced.
        old_engine: Any = getattr(self, "engine")  # noqa: B009 - Rasa's attribute, untyped
        url = old_engine.url
        old_engine.dispose()
        self.engine = sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        # Every turn asks for the conversation's highest event id: an index answers it directly
        # (Rasa indexes sender_id alone, which scans the conversation's rows).
        ensure_index(self.engine, sa.Index(SENDER_ID_INDEX, self.SQLEvent.sender_id, self.SQLEvent.id))
        # Asked three times a turn: one statement built here, not an ORM query built at every call
        # (building and keying the query cost six times what the database takes to answer it).
        table = self.SQLEvent.__table__
        self._last_id_statement = sa.select(sa.func.max(table.c.id)).where(table.c.sender_id == sa.bindparam("sender_id"))

    # --- outage waits ------------------------------------------------------------------------

    async def _through_outage(self, call: Callable[[], T], what: str) -> T:
        deadline = time.monotonic() + self.outage_wait_s
        delay = 0.1
        while True:
            try:
                return call()
            except OUTAGE_ERRORS as exc:
                if time.monotonic() >= deadline:
                    raise
                logger.warning("tracker store unreachable (%s), retrying: %s", what, type(exc).__name__)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)

    # --- reading -------------------------------------------------------------------------------

    def _last_event_id(self, session: Any, sender_id: str) -> int:
        return session.execute(self._last_id_statement, {"sender_id": sender_id}).scalar() or 0

    def _retrieve_sync(self, sender_id: str) -> DialogueStateTracker | None:
        with self.session_scope() as session:
            last_id = self._last_event_id(session, sender_id)
            cached = self._cache.get(sender_id)
            if self._usable(cached, session, last_id):
                assert cached is not None
                self._cache.move_to_end(sender_id)
                return cached.tracker
            self._cache.pop(sender_id, None)
            rows = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).all()
            if not (self.domain and rows):
                return None
            tracker = DialogueStateTracker.from_dict(sender_id, [json.loads(row.data) for row in rows], self.domain.slots)
            self._remember(sender_id, tracker, last_id)
            return tracker

    def _usable(self, cached: _Cached | None, session: Any, last_id: int) -> bool:
        """The cached tracker holds nothing unsaved and is current (after catching up)."""
        if cached is None or len(cached.tracker.events) != cached.events_saved:
            return False
        return cached.last_event_id == last_id or self._catch_up(session, cached, last_id)

    def _catch_up(self, session: Any, cached: _Cached, last_id: int) -> bool:
        """Apply the events another Rasa server saved since ``cached`` was current, as Rasa's
        replay would (``tracker.update`` in id order); False when they start a new session
        (then the whole session is read again)."""
        rows = (
            session.query(self.SQLEvent)
            .filter(self.SQLEvent.sender_id == cached.tracker.sender_id, self.SQLEvent.id > cached.last_event_id)
            .order_by(self.SQLEvent.id)
            .all()
        )
        if any(row.type_name == SessionStarted.type_name for row in rows):
            return False
        for event in deserialise_events([json.loads(row.data) for row in rows]):
            cached.tracker.update(event)
        cached.events_saved = len(cached.tracker.events)
        cached.last_event_id = max([last_id, *(row.id for row in rows)])
        return True

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The conversation's latest session (from the cache when the database proves it current)."""
        return await self._through_outage(lambda: self._retrieve_sync(sender_id), "read")

    async def retrieve_full_tracker(self, conversation_id: str) -> DialogueStateTracker | None:
        """Every session of the conversation (never cached: read for audits, not per turn)."""
        return await self._through_outage(lambda: self._retrieve_all_sessions_sync(conversation_id), "read all sessions")

    def _retrieve_all_sessions_sync(self, sender_id: str) -> DialogueStateTracker | None:
        with self.session_scope() as session:
            rows = self._event_query(session, sender_id, fetch_events_from_all_sessions=True).all()
            if not (self.domain and rows):
                return None
            return DialogueStateTracker.from_dict(sender_id, [json.loads(row.data) for row in rows], self.domain.slots)

    # --- writing -------------------------------------------------------------------------------

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the events the database does not have yet (retried through an outage)."""
        await self.stream_events(tracker)
        await self._through_outage(lambda: self._save_sync(tracker), "write")

    def _save_sync(self, tracker: DialogueStateTracker) -> None:
        sender_id = tracker.sender_id
        with self.session_scope() as session:
            last_id = self._last_event_id(session, sender_id)
            cached = self._cache.get(sender_id)
            if cached is not None and cached.tracker is tracker and cached.last_event_id == last_id:
                new_events = list(itertools.islice(tracker.events, cached.events_saved, None))
            else:
                new_events = list(self._additional_events(session, tracker))
            rows = [self._row(sender_id, event) for event in new_events]
            if rows:
                # One multi-row INSERT (the ORM would send one INSERT ... RETURNING per event), then
                # the conversation's highest id, read inside the same transaction (the lock store
                # keeps other servers from writing this conversation meanwhile).
                session.execute(self.SQLEvent.__table__.insert(), rows)
                last_id = self._last_event_id(session, sender_id)
            session.commit()
        if any(isinstance(event, SessionStarted) for event in itertools.islice(tracker.events, 1, None)):
            # A new session began in this tracker: the database now serves only that session.
            self._cache.pop(sender_id, None)
        else:
            self._remember(sender_id, tracker, last_id)

    @staticmethod
    def _row(sender_id: str, event: Any) -> dict[str, Any]:
        """The row Rasa's SQLTrackerStore.save writes for an event, as column values."""
        data = event.as_dict()
        return {
            "sender_id": sender_id,
            "type_name": event.type_name,
            "timestamp": data.get("timestamp"),
            "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            "action_name": data.get("name"),
            "data": json.dumps(data),
        }

    def _remember(self, sender_id: str, tracker: DialogueStateTracker, last_event_id: int) -> None:
        self._cache[sender_id] = _Cached(tracker, len(tracker.events), last_event_id)
        self._cache.move_to_end(sender_id)
        while len(self._cache) > self.cached_conversations:
            self._cache.popitem(last=False)
