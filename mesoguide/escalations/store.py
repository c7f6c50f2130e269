"""The escalation store: records, notes, the notification outbox, staff users and sessions.

One class over SQLAlchemy Core; SQLite (default) and PostgreSQL run the same code. A record
and its outbox rows are written in one transaction, so the record exists before any
notification is attempted and a queued notification cannot outlive a failed write.
"""

from __future__ import annotations

import builtins
import datetime as dt
import functools
import hashlib
import json
import logging
import secrets
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from mesoguide.escalations import models as m
from mesoguide.escalations.codes import new_reference, normalize_reference
from mesoguide.escalations.migrations import migrate
from mesoguide.escalations.passwords import hash_password, verify_password
from mesoguide.guardrail.precedence import Escalation

logger = logging.getLogger(__name__)

_RANK = {e.value: e.rank for e in Escalation}
MAX_NOTE_CHARS = 4000


class EscalationNotFound(LookupError):
    """No escalation has this reference code."""


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get their directory, WAL and foreign keys.

    WAL lets the dashboard read while the action server writes; the busy timeout makes the
    three processes (actions, notifier, dashboard) wait for each other instead of failing.
    """
    if url.startswith("sqlite"):
        path = sa.engine.make_url(url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, future=True, connect_args={"timeout": 10, "check_same_thread": False})

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            if path and path != ":memory:":
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return sa.create_engine(url, future=True, pool_pre_ping=True)


class EscalationStore:
    """Reads and writes escalations.

    Args:
        url: SQLAlchemy database URL.
        notify_channels: Channels to queue a notification for on each new escalation.
    """

    def __init__(self, *, url: str, notify_channels: Sequence[str] = ()) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.notify_channels = tuple(notify_channels)
        migrate(self.engine)

    def dispose(self) -> None:
        """Closes every pooled connection."""
        self.engine.dispose()

    # --- escalations -----------------------------------------------------------------------

    def record(self, new: m.NewEscalation) -> m.RecordResult:
        """Stores an escalation, or updates the conversation's unresolved one.

        Repeated escalations in one conversation update one record (highest-precedence reason,
        urgent if any was, terms merged, latest excerpt) instead of filling the queue. A record
        that becomes urgent is notified again, marked urgent.

        Returns:
            The reference code, whether a record was created, and how many notifications
            were queued.
        """
        if new["reason"] not in m.REASONS:
            raise ValueError(f"unknown escalation reason {new['reason']!r}; expected one of {m.REASONS}")
        now = m.utcnow()
        with self.engine.begin() as conn:
            row = self._unresolved(conn, new["conversation_id"])
            if row is None:
                escalation_id, reference = self._insert(conn, new, now)
                queued = self._queue(conn, escalation_id, "new", now)
                return m.RecordResult(reference=reference, created=True, notifications=queued)
            reason = max(row["reason"], new["reason"], key=lambda r: _RANK[r])
            terms = sorted(set(json.loads(row["terms"])) | set(new["terms"]))
            conn.execute(
                m.escalations.update()
                .where(m.escalations.c.id == row["id"])
                .values(
                    reason=reason,
                    urgent=bool(row["urgent"] or new["urgent"]),
                    terms=json.dumps(terms),
                    excerpt=new["excerpt"] or row["excerpt"],
                    times_escalated=row["times_escalated"] + 1,
                    updated_at=now,
                )
            )
            queued = 0
            if new["urgent"] and not row["urgent"]:
                queued = self._queue(conn, row["id"], "urgent", now)
            return m.RecordResult(reference=row["reference"], created=False, notifications=queued)

    @staticmethod
    def _unresolved(conn: Connection, conversation_id: str) -> Any:
        """The conversation's newest escalation that is not resolved (a row mapping), or None."""
        return conn.execute(
            sa.select(m.escalations)
            .where(m.escalations.c.conversation_id == conversation_id)
            .where(m.escalations.c.status != "resolved")
            .order_by(m.escalations.c.id.desc())
            .limit(1)
        ).mappings().first()

    def unresolved(self, conversation_id: str) -> m.EscalationRecord | None:
        """The conversation's newest escalation that is not resolved, without notes, or None."""
        with self.engine.connect() as conn:
            row = self._unresolved(conn, conversation_id)
        return _record(row, []) if row is not None else None

    def _insert(self, conn: Connection, new: m.NewEscalation, now: dt.datetime) -> tuple[int, str]:
        for _ in range(10):
            reference = new_reference()
            taken = conn.execute(
                sa.select(m.escalations.c.id).where(m.escalations.c.reference == reference)
            ).first()
            if taken:
                continue
            result = conn.execute(
                m.escalations.insert().values(
                    reference=reference,
                    conversation_id=new["conversation_id"][:255],
                    channel=(new["channel"] or "unknown")[:64],
                    reason=new["reason"],
                    urgent=bool(new["urgent"]),
                    terms=json.dumps(sorted(set(new["terms"]))),
                    excerpt=new["excerpt"],
                    status="open",
                    times_escalated=1,
                    created_at=now,
                    updated_at=now,
                )
            )
            return int(result.inserted_primary_key[0]), reference
        raise RuntimeError("could not find a free reference code in 10 tries")

    def _queue(self, conn: Connection, escalation_id: int, event: str, now: dt.datetime) -> int:
        for channel in self.notify_channels:
            conn.execute(
                m.outbox.insert().values(
                    escalation_id=escalation_id, channel=channel, event=event, attempts=0,
                    next_attempt_at=now, created_at=now,
                )
            )
        return len(self.notify_channels)

    def attach_callback(self, conversation_id: str, request: m.CallbackRequest) -> str | None:
        """Stores callback details on the conversation's unresolved escalation.

        Returns:
            The record's reference code, or None if the conversation has no unresolved one.
        """
        now = m.utcnow()
        with self.engine.begin() as conn:
            row = conn.execute(
                sa.select(m.escalations.c.id, m.escalations.c.reference)
                .where(m.escalations.c.conversation_id == conversation_id)
                .where(m.escalations.c.status != "resolved")
                .order_by(m.escalations.c.id.desc())
                .limit(1)
            ).first()
            if row is None:
                return None
            conn.execute(
                m.escalations.update()
                .where(m.escalations.c.id == row.id)
                .values(
                    callback_name=request["name"][:100],
                    callback_phone=(request["phone"] or None),
                    callback_email=(request["email"] or None),
                    callback_time=request["preferred_time"][:100],
                    callback_consent_at=now,
                    updated_at=now,
                )
            )
            self._queue(conn, row.id, "callback", now)
            return str(row.reference)

    def get(self, reference: str) -> m.EscalationRecord:
        """One escalation with its notes.

        Raises:
            EscalationNotFound: No record has this code.
        """
        code = normalize_reference(reference) or reference
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(m.escalations).where(m.escalations.c.reference == code)).mappings().first()
            if row is None:
                raise EscalationNotFound(f"no escalation with reference {reference!r}")
            note_rows = conn.execute(
                sa.select(m.notes).where(m.notes.c.escalation_id == row["id"]).order_by(m.notes.c.id)
            ).mappings().all()
        return _record(row, [m.Note(author=n["author"], text=n["text"], created_at=n["created_at"]) for n in note_rows])

    def get_by_id(self, escalation_id: int) -> m.EscalationRecord:
        """One escalation by its row id (for the notifier)."""
        with self.engine.connect() as conn:
            code = conn.execute(
                sa.select(m.escalations.c.reference).where(m.escalations.c.id == escalation_id)
            ).scalar()
        if code is None:
            raise EscalationNotFound(f"no escalation with id {escalation_id}")
        return self.get(code)

    def list(
        self,
        *,
        status: str | None = None,
        reason: str | None = None,
        urgent: bool | None = None,
        limit: int = 500,
    ) -> list[m.EscalationRecord]:
        """Escalations, newest first, optionally filtered (notes not included)."""
        query = sa.select(m.escalations).order_by(m.escalations.c.created_at.desc(), m.escalations.c.id.desc())
        if status:
            query = query.where(m.escalations.c.status == status)
        if reason:
            query = query.where(m.escalations.c.reason == reason)
        if urgent is not None:
            query = query.where(m.escalations.c.urgent == urgent)
        with self.engine.connect() as conn:
            rows = conn.execute(query.limit(limit)).mappings().all()
        return [_record(r, []) for r in rows]

    def iter_all(self) -> Iterator[m.EscalationRecord]:
        """Every escalation with its notes, oldest first (for the CSV export)."""
        with self.engine.connect() as conn:
            codes = conn.execute(sa.select(m.escalations.c.reference).order_by(m.escalations.c.id)).scalars().all()
        for code in codes:
            yield self.get(code)

    def set_status(self, reference: str, status: str, *, author: str, note: str | None = None) -> None:
        """Moves a record to ``status`` (open, contacted, resolved), with an optional note.

        Raises:
            ValueError: Unknown status.
            EscalationNotFound: No record has this code.
        """
        if status not in m.STATUSES:
            raise ValueError(f"status must be one of {', '.join(m.STATUSES)}, not {status!r}")
        record = self.get(reference)
        now = m.utcnow()
        with self.engine.begin() as conn:
            conn.execute(
                m.escalations.update().where(m.escalations.c.id == record["id"]).values(status=status, updated_at=now)
            )
            self._note(conn, record["id"], author, f"status: {record['status']} -> {status}", now)
            if note:
                self._note(conn, record["id"], author, note, now)

    def add_note(self, reference: str, text: str, *, author: str) -> None:
        """Adds a staff note.

        Raises:
            ValueError: Empty note or longer than MAX_NOTE_CHARS.
            EscalationNotFound: No record has this code.
        """
        text = (text or "").strip()
        if not text:
            raise ValueError("a note cannot be empty")
        if len(text) > MAX_NOTE_CHARS:
            raise ValueError(f"a note can have at most {MAX_NOTE_CHARS} characters (this one has {len(text)})")
        record = self.get(reference)
        with self.engine.begin() as conn:
            self._note(conn, record["id"], author, text, m.utcnow())

    @staticmethod
    def _note(conn: Connection, escalation_id: int, author: str, text: str, now: dt.datetime) -> None:
        conn.execute(m.notes.insert().values(escalation_id=escalation_id, author=author[:64], text=text, created_at=now))

    def purge(self, *, older_than_days: int, now: dt.datetime | None = None) -> int:
        """Deletes escalations (with notes, callback details, outbox rows) created more than
        ``older_than_days`` ago; returns how many records went."""
        cutoff = (now or m.utcnow()) - dt.timedelta(days=older_than_days)
        with self.engine.begin() as conn:
            ids = conn.execute(sa.select(m.escalations.c.id).where(m.escalations.c.created_at < cutoff)).scalars().all()
            if not ids:
                return 0
            # Children first: SQLite enforces ON DELETE CASCADE only with the pragma, which a
            # connection made elsewhere might lack.
            conn.execute(m.notes.delete().where(m.notes.c.escalation_id.in_(ids)))
            conn.execute(m.outbox.delete().where(m.outbox.c.escalation_id.in_(ids)))
            conn.execute(m.escalations.delete().where(m.escalations.c.id.in_(ids)))
        return len(ids)

    def forget_conversation(self, conversation_id: str) -> builtins.list[str]:
        """Deletes every escalation of one conversation (notes, callback details and outbox rows
        with it); returns their reference codes."""
        with self.engine.begin() as conn:
            rows = conn.execute(
                sa.select(m.escalations.c.id, m.escalations.c.reference).where(m.escalations.c.conversation_id == conversation_id)
            ).all()
            ids = [r.id for r in rows]
            if ids:
                conn.execute(m.notes.delete().where(m.notes.c.escalation_id.in_(ids)))
                conn.execute(m.outbox.delete().where(m.outbox.c.escalation_id.in_(ids)))
                conn.execute(m.escalations.delete().where(m.escalations.c.id.in_(ids)))
            conn.execute(m.takeovers.delete().where(m.takeovers.c.conversation_id == conversation_id))
        return [r.reference for r in rows]

    # --- outbox ----------------------------------------------------------------------------

    def due_notifications(self, *, now: dt.datetime | None = None, limit: int = 20) -> builtins.list[m.OutboxItem]:
        """Undelivered notifications whose next attempt is due: urgent ones first, then oldest first.

        Urgent first, so a backlog of routine notifications (a mail server that was down all
        night) never holds back the one about a patient with a red flag, within a round or
        past the round's ``limit``.
        """
        now = now or m.utcnow()
        urgent_first = sa.case((m.escalations.c.urgent.is_(True), 0), (m.outbox.c.event == "urgent", 0), else_=1)
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(m.outbox)
                .join(m.escalations, m.escalations.c.id == m.outbox.c.escalation_id)
                .where(m.outbox.c.delivered_at.is_(None))
                .where(m.outbox.c.next_attempt_at <= now)
                .order_by(urgent_first, m.outbox.c.id)
                .limit(limit)
            ).mappings().all()
        # Row keys are the table's columns, which mypy cannot match to the TypedDict's keys.
        return [m.OutboxItem(**{k: r[k] for k in m.OutboxItem.__annotations__}) for r in rows]  # type: ignore[typeddict-item]

    def mark_delivered(self, item_id: int) -> None:
        """A notification arrived."""
        with self.engine.begin() as conn:
            conn.execute(m.outbox.update().where(m.outbox.c.id == item_id).values(delivered_at=m.utcnow(), last_error=None))

    def mark_failed(self, item_id: int, error: str, *, retry_in_s: float) -> None:
        """A delivery failed; try again in ``retry_in_s`` seconds (never given up)."""
        with self.engine.begin() as conn:
            conn.execute(
                m.outbox.update()
                .where(m.outbox.c.id == item_id)
                .values(
                    attempts=m.outbox.c.attempts + 1,
                    last_error=error[:2000],
                    next_attempt_at=m.utcnow() + dt.timedelta(seconds=retry_in_s),
                )
            )

    def outbox_items(self, escalation_id: int | None = None) -> builtins.list[m.OutboxItem]:  # `list` is a method here
        """Every outbox row (optionally of one escalation), for status displays and tests."""
        query = sa.select(m.outbox).order_by(m.outbox.c.id)
        if escalation_id is not None:
            query = query.where(m.outbox.c.escalation_id == escalation_id)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        # Row keys are the table's columns, which mypy cannot match to the TypedDict's keys.
        return [m.OutboxItem(**{k: r[k] for k in m.OutboxItem.__annotations__}) for r in rows]  # type: ignore[typeddict-item]

    # --- staff -----------------------------------------------------------------------------

    def set_user(self, username: str, password: str, *, role: str | None = None) -> None:
        """Creates a staff user or changes their password (hash stored, never the password).
        A changed password ends every session of the user; a disabled user is enabled again.

        Args:
            username: The user.
            password: The new password.
            role: ``staff`` or ``admin``; None keeps the current role (``staff`` for a new user).

        Raises:
            ValueError: Bad user name, unknown role, or too short a password.
        """
        if role is not None and role not in m.ROLES:
            raise ValueError(f"role must be one of {', '.join(m.ROLES)}")
        username = username.strip()
        if not username or len(username) > 64 or not username.replace("-", "").replace("_", "").replace(".", "").isalnum():
            raise ValueError("a user name is 1-64 letters, digits, '.', '-' or '_'")
        hashed = hash_password(password)
        with self.engine.begin() as conn:
            values: dict[str, Any] = {"password_hash": hashed, "disabled_at": None}
            if role:
                values["role"] = role
            updated = conn.execute(
                m.staff_users.update().where(m.staff_users.c.username == username).values(**values)
            ).rowcount
            if not updated:
                conn.execute(m.staff_users.insert().values(username=username, created_at=m.utcnow(), role=role or "staff",
                                                           password_hash=hashed))
            conn.execute(m.staff_sessions.delete().where(m.staff_sessions.c.username == username))

    def disable_user(self, username: str) -> None:
        """Stops a user from logging in and ends their sessions (the record of what they did stays).

        Raises:
            ValueError: No such user.
        """
        with self.engine.begin() as conn:
            changed = conn.execute(
                m.staff_users.update().where(m.staff_users.c.username == username).values(disabled_at=m.utcnow())
            ).rowcount
            if not changed:
                raise ValueError(f"no staff user {username!r}")
            conn.execute(m.staff_sessions.delete().where(m.staff_sessions.c.username == username))

    def user_role(self, username: str) -> str | None:
        """The role of an enabled user, None for an unknown or disabled one."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(m.staff_users.c.role, m.staff_users.c.disabled_at).where(m.staff_users.c.username == username)
            ).first()
        return None if row is None or row.disabled_at is not None else row.role

    def audit(self, actor: str, action: str, target: str = "") -> None:
        """Records one staff action (never a patient's words: the target is a code or a user)."""
        with self.engine.begin() as conn:
            conn.execute(m.audit_log.insert().values(at=m.utcnow(), actor=actor[:80], action=action[:32], target=target[:80]))

    def audit_entries(self, *, limit: int = 500) -> builtins.list[dict[str, Any]]:
        """The latest staff actions, newest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(m.audit_log).order_by(m.audit_log.c.id.desc()).limit(limit)).mappings().all()
        return [dict(r) for r in rows]

    def has_users(self) -> bool:
        """Whether any staff user exists."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(m.staff_users)).scalar() > 0

    def check_login(self, username: str, password: str) -> bool:
        """Whether the user exists and the password matches."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(m.staff_users.c.password_hash, m.staff_users.c.disabled_at).where(m.staff_users.c.username == username)
            ).first()
        if row is None:
            # Same cost as a real check, so response time does not reveal which names exist.
            verify_password(password, _dummy_hash())
            return False
        return verify_password(password, row.password_hash) and row.disabled_at is None

    def open_session(self, username: str, *, minutes: int) -> tuple[str, str]:
        """A new login session; returns (cookie token, CSRF token). Only a hash of the cookie
        token is stored, so a leaked database does not hand out sessions."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = m.utcnow()
        with self.engine.begin() as conn:
            conn.execute(m.staff_sessions.delete().where(m.staff_sessions.c.expires_at < now))
            conn.execute(
                m.staff_sessions.insert().values(
                    token_hash=_sha256(token), username=username, csrf_token=csrf,
                    expires_at=now + dt.timedelta(minutes=minutes),
                )
            )
        return token, csrf

    def session(self, token: str | None) -> tuple[str, str] | None:
        """(username, CSRF token) of a live session, or None if unknown or expired."""
        if not token:
            return None
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(m.staff_sessions).where(m.staff_sessions.c.token_hash == _sha256(token))
            ).mappings().first()
        if row is None or row["expires_at"] < m.utcnow():
            return None
        return row["username"], row["csrf_token"]

    def close_session(self, token: str | None) -> None:
        """Logs a session out."""
        if token:
            with self.engine.begin() as conn:
                conn.execute(m.staff_sessions.delete().where(m.staff_sessions.c.token_hash == _sha256(token)))


@functools.lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password("x" * 16)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _record(row: Any, notes: list[m.Note]) -> m.EscalationRecord:
    return m.EscalationRecord(
        id=row["id"],
        reference=row["reference"],
        conversation_id=row["conversation_id"],
        channel=row["channel"],
        reason=row["reason"],
        urgent=bool(row["urgent"]),
        terms=json.loads(row["terms"] or "[]"),
        excerpt=row["excerpt"],
        status=row["status"],
        times_escalated=row["times_escalated"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        callback_name=row["callback_name"],
        callback_phone=row["callback_phone"],
        callback_email=row["callback_email"],
        callback_time=row["callback_time"],
        callback_consent_at=row["callback_consent_at"],
        notes=notes,
    )
