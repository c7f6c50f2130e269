"""Tables (SQLAlchemy Core) and the typed records that leave the store.

Core rather than the ORM: the store hands out plain TypedDicts that cross process and module
boundaries (actions, notifier, dashboard, CLI) without sessions or lazy loading.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal, TypedDict

import sqlalchemy as sa

Status = Literal["open", "contacted", "resolved"]
STATUSES: tuple[Status, ...] = ("open", "contacted", "resolved")
REASONS = ("red_flag", "contraindication", "medical_advice", "human")

metadata = sa.MetaData()

schema_version = sa.Table(
    "mg_schema_version",
    metadata,
    sa.Column("version", sa.Integer, nullable=False),
)

escalations = sa.Table(
    "mg_escalations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("reference", sa.String(16), nullable=False, unique=True),
    sa.Column("conversation_id", sa.String(255), nullable=False, index=True),
    sa.Column("channel", sa.String(64), nullable=False),
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("urgent", sa.Boolean, nullable=False),
    sa.Column("terms", sa.Text, nullable=False),  # JSON list of vocabulary ids
    sa.Column("excerpt", sa.Text, nullable=False),  # redacted
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("times_escalated", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False, index=True),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("callback_name", sa.String(100)),
    sa.Column("callback_phone", sa.String(32)),
    sa.Column("callback_email", sa.String(254)),
    sa.Column("callback_time", sa.String(100)),
    sa.Column("callback_consent_at", sa.DateTime),
)

notes = sa.Table(
    "mg_notes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("escalation_id", sa.Integer, sa.ForeignKey("mg_escalations.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("author", sa.String(64), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

outbox = sa.Table(
    "mg_outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("escalation_id", sa.Integer, sa.ForeignKey("mg_escalations.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("event", sa.String(16), nullable=False),  # new | urgent | callback
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", sa.DateTime, nullable=False, index=True),
    sa.Column("last_error", sa.Text),
    sa.Column("delivered_at", sa.DateTime),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

staff_users = sa.Table(
    "mg_staff_users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("role", sa.String(16), nullable=False, server_default="staff"),  # staff | admin
    sa.Column("disabled_at", sa.DateTime),
)

ROLES = ("staff", "admin")

# Who did what in the dashboard and the CLI: log-ins (also failed ones), records viewed, status
# changes, notes, exports, purges, user changes. Admins read it (/audit, CLI `audit`).
audit_log = sa.Table(
    "mg_audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime, nullable=False, index=True),
    sa.Column("actor", sa.String(80), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("target", sa.String(80), nullable=False, server_default=""),
)

# A staff member in a patient's chat (mesoguide.takeover): who, from when to when, and when they
# first wrote (the analytics' time to first contact). One open row (ended_at NULL) per conversation.
takeovers = sa.Table(
    "mg_takeovers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("conversation_id", sa.String(255), nullable=False, index=True),
    sa.Column("channel", sa.String(64), nullable=False),
    sa.Column("staff_user", sa.String(64), nullable=False),
    sa.Column("staff_name", sa.String(64), nullable=False),  # as the patient sees it
    sa.Column("started_at", sa.DateTime, nullable=False, index=True),
    sa.Column("first_message_at", sa.DateTime),
    sa.Column("ended_at", sa.DateTime),
)

staff_sessions = sa.Table(
    "mg_staff_sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),  # sha256 of the cookie value
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("expires_at", sa.DateTime, nullable=False),
)


class NewEscalation(TypedDict):
    """What an action knows when it escalates a message."""

    conversation_id: str
    channel: str
    reason: str  # one of REASONS
    urgent: bool
    terms: list[str]
    excerpt: str  # already redacted


class Note(TypedDict):
    author: str
    text: str
    created_at: dt.datetime


class EscalationRecord(TypedDict):
    """An escalation as staff see it."""

    id: int
    reference: str
    conversation_id: str
    channel: str
    reason: str
    urgent: bool
    terms: list[str]
    excerpt: str
    status: str
    times_escalated: int
    created_at: dt.datetime
    updated_at: dt.datetime
    callback_name: str | None
    callback_phone: str | None
    callback_email: str | None
    callback_time: str | None
    callback_consent_at: dt.datetime | None
    notes: list[Note]


class CallbackRequest(TypedDict):
    """Contact details the patient gave, with consent, in the callback form."""

    name: str
    phone: str | None
    email: str | None
    preferred_time: str


class OutboxItem(TypedDict):
    """A notification waiting to be delivered."""

    id: int
    escalation_id: int
    channel: str
    event: str
    attempts: int
    next_attempt_at: dt.datetime
    last_error: str | None
    delivered_at: dt.datetime | None


class RecordResult(TypedDict):
    """What :meth:`EscalationStore.record` did."""

    reference: str
    created: bool  # False: an open record of the same conversation was updated
    notifications: int  # outbox rows queued


def utcnow() -> dt.datetime:
    """Now, in UTC, without tzinfo (SQLite keeps no time zones; everything stored is UTC)."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
