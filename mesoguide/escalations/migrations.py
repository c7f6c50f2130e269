"""Schema creation and migration, tracked in a version table.

Each migration is a function applied once, in order, inside one transaction with the version
bump, so a half-applied migration cannot be recorded as done. Add a function to MIGRATIONS
to change the schema; never edit one that has shipped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from mesoguide.escalations import models as m

logger = logging.getLogger(__name__)


def _v1_initial(conn: Connection) -> None:
    tables = [m.escalations, m.notes, m.outbox, m.staff_users, m.staff_sessions]
    m.metadata.create_all(conn, tables=tables)
    # (Tables are created from today's models: later migrations check before they add.)


def _v2_roles_and_audit(conn: Connection) -> None:
    """Staff roles, disabling a user, the audit log."""
    columns = {c["name"] for c in sa.inspect(conn).get_columns(m.staff_users.name)}
    if "role" not in columns:
        conn.execute(sa.text(f"ALTER TABLE {m.staff_users.name} ADD COLUMN role VARCHAR(16) NOT NULL DEFAULT 'staff'"))
    if "disabled_at" not in columns:
        kind = "TIMESTAMP" if conn.dialect.name == "postgresql" else "DATETIME"
        conn.execute(sa.text(f"ALTER TABLE {m.staff_users.name} ADD COLUMN disabled_at {kind}"))
    m.metadata.create_all(conn, tables=[m.audit_log])


def _v3_takeovers(conn: Connection) -> None:
    """Staff taking over a conversation."""
    m.metadata.create_all(conn, tables=[m.takeovers])


MIGRATIONS: tuple[Callable[[Connection], None], ...] = (_v1_initial, _v2_roles_and_audit, _v3_takeovers)
LATEST = len(MIGRATIONS)


def current_version(conn: Connection) -> int:
    """The schema version recorded in the database (0 for an empty one)."""
    if not sa.inspect(conn).has_table(m.schema_version.name):
        return 0
    value = conn.execute(sa.select(m.schema_version.c.version)).scalar()
    return int(value or 0)


def migrate(engine: Engine) -> int:
    """Brings the schema to the latest version; returns the version it is at.

    Raises:
        RuntimeError: The database is newer than this code (downgrade the database or
            upgrade MesoGuide).
    """
    with engine.begin() as conn:
        m.metadata.create_all(conn, tables=[m.schema_version])
        version = current_version(conn)
        if version > LATEST:
            raise RuntimeError(
                f"escalation database schema is version {version}, this MesoGuide knows up to {LATEST}: "
                "upgrade MesoGuide or point MESOGUIDE_DATABASE_URL at another database"
            )
        for number in range(version + 1, LATEST + 1):
            logger.info("escalation store: applying schema migration %d", number)
            MIGRATIONS[number - 1](conn)
        if version == 0:
            conn.execute(m.schema_version.insert().values(version=LATEST))
        elif version < LATEST:
            conn.execute(m.schema_version.update().values(version=LATEST))
    return LATEST
