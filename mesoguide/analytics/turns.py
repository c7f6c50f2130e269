"""Turns and conversations read from Rasa's SQL tracker store (its ``events`` table)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from mesoguide import constants as c


@dataclass(frozen=True)
class Turn:
    """One turn with an outcome.

    Attributes:
        conversation_id: The namespaced conversation id.
        channel: Its channel (the id's prefix).
        at: When the outcome was set (UTC, naive).
        outcome: The ``turn_outcome`` value.
        text: The patient message the turn answered ("" if none was logged).
    """

    conversation_id: str
    channel: str
    at: dt.datetime
    outcome: str
    text: str


@dataclass(frozen=True)
class PatientMessage:
    """A patient message: who, on which channel, when (UTC, naive)."""

    conversation_id: str
    channel: str
    at: dt.datetime


def channel_of(conversation_id: str) -> str:
    """The channel a namespaced conversation id belongs to ("unknown" for an unnamespaced one)."""
    return conversation_id.split(":", 1)[0] if ":" in conversation_id else "unknown"


def read_events(engine: Engine, *, since: dt.datetime) -> tuple[list[PatientMessage], list[Turn]]:
    """The patient messages and the turns with an outcome since ``since`` (UTC, naive)."""
    messages: list[PatientMessage] = []
    turns: list[Turn] = []
    last_text: dict[str, str] = {}  # the latest patient message of each conversation, as the rows go
    for sender, kind, timestamp, data in _rows(engine, since):
        at = dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).replace(tzinfo=None)
        event = _json(data)
        if kind == "user":
            messages.append(PatientMessage(sender, channel_of(sender), at))
            last_text[sender] = str(event.get("text") or "")
        elif event.get("name") == c.SLOT_TURN_OUTCOME and isinstance(event.get("value"), str):
            turns.append(Turn(sender, channel_of(sender), at, event["value"], last_text.get(sender, "")))
    return messages, turns


def _rows(engine: Engine, since: dt.datetime) -> Iterator[tuple[str, str, float, str]]:
    """(sender, type, timestamp, data) of user and slot events, each conversation's in order."""
    if not sa.inspect(engine).has_table("events"):
        return
    events = sa.Table("events", sa.MetaData(), autoload_with=engine)
    cutoff = since.replace(tzinfo=dt.timezone.utc).timestamp()
    query = (
        sa.select(events.c.sender_id, events.c.type_name, events.c.timestamp, events.c.data)
        .where(events.c.timestamp >= cutoff)
        .where(events.c.type_name.in_(("user", "slot")))
        .order_by(events.c.sender_id, events.c.id)
    )
    with engine.connect() as conn:
        for sender, kind, timestamp, data in conn.execute(query):
            yield str(sender), str(kind), float(timestamp), data


def _json(data: str | None) -> dict:
    try:
        value = json.loads(data or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
