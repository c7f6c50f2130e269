"""Where MesoGuide finds its files.

Both servers run from the repository root (the Makefile starts them there); the environment
variables let a deployment or a test point elsewhere without code changes.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def knowledge_dir() -> Path:
    """The knowledge base directory (``MESOGUIDE_KNOWLEDGE_DIR`` or ``knowledge/``)."""
    return Path(os.environ.get("MESOGUIDE_KNOWLEDGE_DIR", REPO_ROOT / "knowledge"))


def guardrail_model_dir() -> Path:
    """Where the built spaCy guardrail pipeline lives (``MESOGUIDE_GUARDRAIL_MODEL``)."""
    return Path(os.environ.get("MESOGUIDE_GUARDRAIL_MODEL", REPO_ROOT / "build" / "guardrail_nlp"))
