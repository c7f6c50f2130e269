"""Clinician escalations: stored queue, reference codes, callbacks, notifications.

Modules: :mod:`.config` (environment), :mod:`.models` (tables, records), :mod:`.migrations`
(schema version table), :mod:`.store` (reads and writes), :mod:`.codes` (reference codes),
:mod:`.redaction` and :mod:`.transcript` (the excerpt staff see), :mod:`.notifier` (outbox
delivery), :mod:`.cli` (``python -m mesoguide.escalations``).
"""

from __future__ import annotations

from mesoguide.escalations.config import EscalationConfig
from mesoguide.escalations.store import EscalationNotFound, EscalationStore


def store_from_config(config: EscalationConfig) -> EscalationStore:
    """The store the configuration points at, schema migrated."""
    return EscalationStore(url=config.database_url, notify_channels=config.notify_channels)


__all__ = ["EscalationConfig", "EscalationNotFound", "EscalationStore", "store_from_config"]
