"""Keeping patient data no longer than needed, and erasing one patient's data on request.

Three places hold what a patient wrote:

* Rasa's tracker store (every message; table ``events`` of the SQL tracker store), at
  ``MESOGUIDE_TRACKER_URL`` (default: the ``build/tracker.db`` of ``make run``);
* the escalation store (records, notes, callback details, outbox rows);
* the spool file (escalations and callbacks that could not be stored when they happened).

:func:`purge_conversations` deletes tracker events older than the retention period
(``MESOGUIDE_CONVERSATION_RETENTION_DAYS``, 90 by default: an escalation's own record keeps what
staff need, for ``MESOGUIDE_RETENTION_DAYS``). :func:`forget` erases one conversation from all
three, found by its conversation id (``twilio:+44...``, ``rest:...``, ``webchat:...``) or by the
reference code of one of its escalations.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from mesoguide.escalations.codes import normalize_reference
from mesoguide.escalations.spool import spool_path
from mesoguide.escalations.store import EscalationStore, make_engine
from mesoguide.paths import REPO_ROOT

DEFAULT_TRACKER_URL = f"sqlite:///{REPO_ROOT / 'build' / 'tracker.db'}"
DEFAULT_CONVERSATION_RETENTION_DAYS = 90


def tracker_url(env: dict[str, str] | None = None) -> str:
    """The SQL tracker store's URL (``MESOGUIDE_TRACKER_URL``)."""
    env = dict(os.environ if env is None else env)
    return env.get("MESOGUIDE_TRACKER_URL") or DEFAULT_TRACKER_URL


def conversation_retention_days(env: dict[str, str] | None = None) -> int:
    """Days a conversation's messages are kept (``MESOGUIDE_CONVERSATION_RETENTION_DAYS``)."""
    env = dict(os.environ if env is None else env)
    return int(env.get("MESOGUIDE_CONVERSATION_RETENTION_DAYS") or DEFAULT_CONVERSATION_RETENTION_DAYS)


def _events(engine: sa.Engine) -> sa.Table | None:
    """Rasa's ``events`` table, or None where Rasa has not created it yet."""
    if not sa.inspect(engine).has_table("events"):
        return None
    return sa.Table("events", sa.MetaData(), autoload_with=engine)


def purge_conversations(url: str, *, older_than_days: int, now: dt.datetime | None = None) -> int:
    """Delete tracker events older than ``older_than_days``; returns how many went."""
    if older_than_days < 0:
        raise ValueError("older_than_days must not be negative")
    cutoff = ((now or dt.datetime.now(dt.timezone.utc)) - dt.timedelta(days=older_than_days)).timestamp()
    engine = make_engine(url)
    try:
        events = _events(engine)
        if events is None:
            return 0
        with engine.begin() as conn:
            return conn.execute(events.delete().where(events.c.timestamp < cutoff)).rowcount or 0
    finally:
        engine.dispose()


@dataclass(frozen=True)
class Forgotten:
    """What :func:`forget` erased."""

    conversation_id: str
    tracker_events: int
    escalations: tuple[str, ...]
    spooled: int


def forget(target: str, *, store: EscalationStore, tracker: str, spool: Path | None = None) -> Forgotten:
    """Erase one conversation everywhere.

    Args:
        target: A conversation id, or a reference code of one of its escalations.
        store: The escalation store.
        tracker: The tracker store's URL.
        spool: The spool file (default: :func:`mesoguide.escalations.spool.spool_path`).

    Raises:
        EscalationNotFound: ``target`` looks like a reference code that no record has.
    """
    # Conversation ids always hold a ":" (namespaced by channel); codes start with MG.
    reference = None if ":" in target else normalize_reference(target)
    conversation = store.get(reference)["conversation_id"] if reference else target
    references = tuple(store.forget_conversation(conversation))
    engine = make_engine(tracker)
    try:
        events = _events(engine)
        erased = 0
        if events is not None:
            with engine.begin() as conn:
                erased = conn.execute(events.delete().where(events.c.sender_id == conversation)).rowcount or 0
    finally:
        engine.dispose()
    return Forgotten(conversation, erased, references, _forget_in_spool(spool or spool_path(), conversation))


def _forget_in_spool(path: Path, conversation: str) -> int:
    """Rewrite the spool without the conversation's lines (owner-only, replaced atomically)."""
    if not path.exists():
        return 0
    kept, dropped = [], 0
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            mine = json.loads(line).get("conversation_id") == conversation
        except (ValueError, AttributeError):
            mine = False
        if mine:
            dropped += 1
        else:
            kept.append(line)
    if dropped:
        fresh = path.with_suffix(".tmp")
        fresh.touch(mode=0o600, exist_ok=True)
        fresh.write_text("".join(f"{line}\n" for line in kept), encoding="utf-8")
        fresh.replace(path)
    return dropped
