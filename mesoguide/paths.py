"""Where MesoGuide finds its files.

Paths are relative to the repository (not the working directory); the environment variables let
a deployment or a test point elsewhere without code changes.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def knowledge_dir(configured: str | Path | None = None) -> Path:
    """The knowledge base directory: ``configured`` (a component's ``knowledge:`` in config.yml)
    when given, else ``MESOGUIDE_KNOWLEDGE_DIR`` or ``knowledge/``."""
    if configured:
        return Path(configured)
    return Path(os.environ.get("MESOGUIDE_KNOWLEDGE_DIR", REPO_ROOT / "knowledge"))


def nlu_files(data: Path = REPO_ROOT / "data") -> list[Path]:
    """The NLU training files: ``data/nlu.yml`` (conversation and guardrail intents) and the
    topic files under ``data/nlu/``, in a stable order."""
    return [data / "nlu.yml", *sorted((data / "nlu").glob("*.yml"))]
