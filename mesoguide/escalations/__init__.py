"""Clinician escalations: stored queue, reference codes, callbacks, notifications.

Modules: :mod:`.config` (environment), :mod:`.models` (tables, records), :mod:`.migrations`
(schema version table), :mod:`.store` (reads and writes), :mod:`.codes` (reference codes),
:mod:`.redaction` and :mod:`.transcript` (the excerpt staff see), :mod:`.notifier` (outbox
delivery), :mod:`.cli` (``python -m mesoguide.escalations``).
"""

from __future__ import annotations

import functools
import logging

from mesoguide.escalations.config import EscalationConfig
from mesoguide.escalations.models import NewEscalation
from mesoguide.escalations.spool import spool, spool_path
from mesoguide.escalations.store import EscalationNotFound, EscalationStore
from mesoguide.logsafe import hashed

logger = logging.getLogger(__name__)


def store_from_config(config: EscalationConfig) -> EscalationStore:
    """The store the configuration points at, schema migrated."""
    return EscalationStore(url=config.database_url, notify_channels=config.notify_channels)


@functools.lru_cache(maxsize=1)
def default_store() -> EscalationStore:
    """The escalation store of this process, from ``MESOGUIDE_DATABASE_URL`` (created on first use).

    Raises:
        Exception: Whatever the database raises when it cannot be reached; :func:`store_or_spool`
            catches it so the patient still gets the clinic's number.
    """
    return store_from_config(EscalationConfig.from_env())


def store_or_spool(new: NewEscalation, store: EscalationStore | None = None) -> str | None:
    """Store an escalation (in ``store``, else :func:`default_store`); its reference code, or
    None when storing failed: then the record is spooled and the failure logged at CRITICAL.

    The log line names the exception's type only: a database error quotes the statement's
    parameters, which hold the patient's excerpt.
    """
    try:
        return (store if store is not None else default_store()).record(new)["reference"]
    except Exception as exc:  # noqa: BLE001 - any storage failure: the patient must still be helped
        logger.critical(
            "ESCALATION NOT STORED (%s, conversation %s, %s): the patient was told to call the clinic; "
            "record appended to %s", new["reason"], hashed(new["conversation_id"]), type(exc).__name__, spool_path(),
        )
        spool({"kind": "escalation", **new})
        return None


__all__ = [
    "EscalationConfig",
    "EscalationNotFound",
    "EscalationStore",
    "default_store",
    "store_from_config",
    "store_or_spool",
]
