"""The conversations going on now, read from Rasa's SQL tracker store (``MESOGUIDE_TRACKER_URL``).

Read-only and outside the message path: the list costs the assistant nothing. A conversation is
live while its last event is younger than ``MESOGUIDE_LIVE_MINUTES`` (60 by default). Escalated
ones come first (urgent before the others), then the most recent.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from typing import TypedDict

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from mesoguide.escalations.models import EscalationRecord
from mesoguide.takeover.records import TakeoverRecord

DEFAULT_LIVE_MINUTES = 60
MAX_LISTED = 200


class LiveConversation(TypedDict):
    """One row of the live list."""

    conversation_id: str
    channel: str
    last_at: dt.datetime  # UTC, naive
    messages: int  # patient messages
    escalation: EscalationRecord | None  # its open escalation, if any
    takeover: TakeoverRecord | None  # who has it, if anyone


def recent_conversations(engine: Engine, *, minutes: int, now: float | None = None) -> list[tuple[str, float, int]]:
    """(conversation id, last event time, patient messages) of conversations active in the last
    ``minutes``, newest first; empty before Rasa created its table."""
    if not sa.inspect(engine).has_table("events"):
        return []
    events = sa.Table("events", sa.MetaData(), autoload_with=engine)
    cutoff = (now if now is not None else time.time()) - minutes * 60
    is_user = sa.case((events.c.type_name == "user", 1), else_=0)
    query = (
        sa.select(events.c.sender_id, sa.func.max(events.c.timestamp).label("last"), sa.func.sum(is_user).label("messages"))
        .where(events.c.timestamp >= cutoff)
        .group_by(events.c.sender_id)
        .order_by(sa.desc("last"))
        .limit(MAX_LISTED)
    )
    with engine.connect() as conn:
        return [(r.sender_id, float(r.last), int(r.messages or 0)) for r in conn.execute(query)]


def live_conversations(
    recent: list[tuple[str, float, int]],
    escalations: Mapping[str, EscalationRecord],
    takeovers: Mapping[str, TakeoverRecord],
) -> list[LiveConversation]:
    """The live list: conversations with a patient message, joined with their open escalation
    and takeover; urgent escalations first, then other escalations, then the rest, newest first
    within each."""
    rows = [
        LiveConversation(
            conversation_id=cid,
            channel=cid.split(":", 1)[0] if ":" in cid else "unknown",
            last_at=dt.datetime.fromtimestamp(last, dt.timezone.utc).replace(tzinfo=None),
            messages=messages,
            escalation=escalations.get(cid),
            takeover=takeovers.get(cid),
        )
        for cid, last, messages in recent
        if messages > 0
    ]

    def rank(row: LiveConversation) -> tuple[int, float]:
        escalation = row["escalation"]
        group = 0 if escalation and escalation["urgent"] else 1 if escalation else 2
        return group, -row["last_at"].timestamp()

    return sorted(rows, key=rank)
