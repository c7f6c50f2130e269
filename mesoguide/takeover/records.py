"""Who has which conversation (``mg_takeovers`` in the escalation database)."""

from __future__ import annotations

import datetime as dt
from typing import TypedDict

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, RowMapping

from mesoguide.escalations import models as m
from mesoguide.takeover.errors import TakeoverError


class TakeoverRecord(TypedDict):
    """One staff member's time in one conversation."""

    conversation_id: str
    channel: str
    staff_user: str
    staff_name: str
    started_at: dt.datetime
    first_message_at: dt.datetime | None
    ended_at: dt.datetime | None


class TakeoverLog:
    """Reads and writes takeovers.

    Args:
        engine: The escalation database's engine (its schema is migrated by the store).
    """

    def __init__(self, *, engine: Engine) -> None:
        self.engine = engine

    def start(self, conversation_id: str, *, channel: str, user: str, name: str) -> TakeoverRecord:
        """Open a takeover for ``user``; their own open one is returned as it is.

        Raises:
            TakeoverError: Someone else has the conversation.
        """
        with self.engine.begin() as conn:
            current = self._open(conn, conversation_id)
            if current is not None:
                if current["staff_user"] != user:
                    raise TakeoverError(f"{current['staff_name']} ({current['staff_user']}) already has this conversation.")
                return current
            conn.execute(
                m.takeovers.insert().values(
                    conversation_id=conversation_id, channel=channel, staff_user=user, staff_name=name, started_at=m.utcnow()
                )
            )
            opened = self._open(conn, conversation_id)
        assert opened is not None
        return opened

    def active(self, conversation_id: str) -> TakeoverRecord | None:
        """The open takeover of a conversation, if any."""
        with self.engine.connect() as conn:
            return self._open(conn, conversation_id)

    def active_all(self) -> dict[str, TakeoverRecord]:
        """Every open takeover, by conversation id."""
        query = sa.select(m.takeovers).where(m.takeovers.c.ended_at.is_(None))
        with self.engine.connect() as conn:
            return {r["conversation_id"]: _record(r) for r in conn.execute(query).mappings()}

    def wrote(self, conversation_id: str) -> None:
        """Note the staff member's first message in the open takeover (later ones change nothing)."""
        with self.engine.begin() as conn:
            conn.execute(
                m.takeovers.update()
                .where(m.takeovers.c.conversation_id == conversation_id)
                .where(m.takeovers.c.ended_at.is_(None))
                .where(m.takeovers.c.first_message_at.is_(None))
                .values(first_message_at=m.utcnow())
            )

    def end(self, conversation_id: str) -> None:
        """Close the open takeover of a conversation (nothing happens if there is none)."""
        with self.engine.begin() as conn:
            conn.execute(
                m.takeovers.update()
                .where(m.takeovers.c.conversation_id == conversation_id)
                .where(m.takeovers.c.ended_at.is_(None))
                .values(ended_at=m.utcnow())
            )

    @staticmethod
    def _open(conn: Connection, conversation_id: str) -> TakeoverRecord | None:
        row = conn.execute(
            sa.select(m.takeovers)
            .where(m.takeovers.c.conversation_id == conversation_id)
            .where(m.takeovers.c.ended_at.is_(None))
            .order_by(m.takeovers.c.id.desc())
            .limit(1)
        ).mappings().first()
        return _record(row) if row is not None else None


def _record(row: RowMapping) -> TakeoverRecord:
    return TakeoverRecord(
        conversation_id=row["conversation_id"],
        channel=row["channel"],
        staff_user=row["staff_user"],
        staff_name=row["staff_name"],
        started_at=row["started_at"],
        first_message_at=row["first_message_at"],
        ended_at=row["ended_at"],
    )
