"""The last resort when the database cannot take an escalation: a local JSON-lines file.

The action server appends what it could not store (and says so at CRITICAL); staff store it
later with ``python -m mesoguide.escalations import-spool``. Nothing the patient typed is lost
silently.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from mesoguide.escalations.models import utcnow
from mesoguide.logsafe import hashed
from mesoguide.paths import REPO_ROOT

logger = logging.getLogger(__name__)


def spool_path() -> Path:
    """Where escalations that could not be stored go (``MESOGUIDE_ESCALATION_SPOOL``)."""
    return Path(os.environ.get("MESOGUIDE_ESCALATION_SPOOL", REPO_ROOT / "build" / "escalations-unsaved.jsonl"))


def spool(record: dict[str, Any]) -> None:
    """Appends a record to the spool file (mode 0600, folder 0700).

    If even that fails, the log line says what was lost without the patient's words or contact
    details (reason, channel, hashed conversation id): the patient was told to call the clinic.
    """
    line = json.dumps({**record, "failed_at": utcnow().isoformat()})
    try:
        path = spool_path()
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.touch(mode=0o600, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
    except OSError:
        logger.critical(
            "ESCALATION SPOOL NOT WRITABLE either: a %s record (%s, reason %s, conversation %s) is lost",
            record.get("kind"), record.get("channel"), record.get("reason"), hashed(record.get("conversation_id")),
        )
