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
from mesoguide.paths import REPO_ROOT

logger = logging.getLogger(__name__)


def spool_path() -> Path:
    """Where escalations that could not be stored go (``MESOGUIDE_ESCALATION_SPOOL``)."""
    return Path(os.environ.get("MESOGUIDE_ESCALATION_SPOOL", REPO_ROOT / "build" / "escalations-unsaved.jsonl"))


def spool(record: dict[str, Any]) -> None:
    """Appends a record to the spool file; if even that fails, the log line holds it."""
    line = json.dumps({**record, "failed_at": utcnow().isoformat()})
    try:
        path = spool_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
    except OSError:
        logger.critical("ESCALATION SPOOL NOT WRITABLE either: %s", line)
