"""Shared fixtures: the real knowledge base, matcher and domain, loaded once per session."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker

from mesoguide.guardrail.matcher import GuardrailMatcher
from mesoguide.knowledge import KnowledgeBase, load_knowledge
from mesoguide.paths import REPO_ROOT

CORPORA_DIR = REPO_ROOT / "tests" / "corpora"  # development set (used to build the vocabularies)
HELDOUT_DIR = REPO_ROOT / "tests" / "heldout"  # issue 3's held-out set (README: how it was used)
BLIND_DIR = REPO_ROOT / "tests" / "blind"  # a second blind set, written after the first tuning round
#: Every case set, by name. The safety gate (tests/e2e/test_safety_gate.py) runs all of them.
CASE_SETS = {"development": CORPORA_DIR, "heldout": HELDOUT_DIR, "blind": BLIND_DIR}


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return load_knowledge(REPO_ROOT / "knowledge")


@pytest.fixture(scope="session")
def matcher(kb: KnowledgeBase) -> GuardrailMatcher:
    return GuardrailMatcher.from_knowledge(kb)


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    """The real domain.yml, as the action server receives it."""
    return yaml.safe_load((REPO_ROOT / "domain.yml").read_text(encoding="utf-8"))


def make_tracker(
    text: str,
    intent: str,
    *,
    entities: list[dict[str, Any]] | None = None,
    slots: dict[str, Any] | None = None,
    confidence: float = 0.95,
) -> Tracker:
    """A tracker in memory whose latest message is ``text`` classified as ``intent``."""
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "entities": entities or [],
    }
    return Tracker(
        sender_id="test",
        slots=slots or {},
        latest_message=latest,
        events=[{"event": "user", "text": text, "parse_data": latest}],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def copy_knowledge(tmp_path: Path) -> Path:
    """A writable copy of knowledge/ to break on purpose."""
    import shutil

    target = tmp_path / "knowledge"
    shutil.copytree(REPO_ROOT / "knowledge", target)
    return target


def nlu_examples() -> dict[str, list[str]]:
    """Training examples per intent, from every file under data/."""
    examples: dict[str, list[str]] = {}
    for path in sorted((REPO_ROOT / "data").rglob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in data.get("nlu", []):
            if "intent" in block:
                lines = [ln[2:].strip() for ln in block["examples"].splitlines() if ln.startswith("- ")]
                examples.setdefault(block["intent"], []).extend(lines)
    return examples
