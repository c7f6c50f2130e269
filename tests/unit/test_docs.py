"""The README and docs/ cannot drift from the repository: every make target and path they name exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mesoguide.paths import REPO_ROOT

DOCS = [REPO_ROOT / "README.md", REPO_ROOT / "knowledge" / "README.md", REPO_ROOT / "mesoguide" / "guardrail" / "README.md",
        *sorted((REPO_ROOT / "docs").rglob("*.md"))]
_TARGET = re.compile(r"^([a-z][a-z-]*):", re.M)
_MAKE = re.compile(r"`make ([a-z][a-z-]*)")
# Backticked repository paths: a top-level folder of the repository, then more path.
_PATH = re.compile(r"`((?:mesoguide|actions|tests|knowledge|data|docs|web|deploy)/[\w./<>*-]*)")


def _targets() -> set[str]:
    return set(_TARGET.findall((REPO_ROOT / "Makefile").read_text(encoding="utf-8")))


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_every_make_target_named_exists(doc: Path) -> None:
    assert set(_MAKE.findall(doc.read_text(encoding="utf-8"))) - _targets() == set()


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_every_repository_path_named_exists(doc: Path) -> None:
    missing = []
    for path in _PATH.findall(doc.read_text(encoding="utf-8")):
        path = path.rstrip(".").split("#")[0]
        if "<" in path or "*" in path:  # a pattern such as topics/<topic_id>.yml
            continue
        if path.rsplit("/", 1)[-1].startswith("."):  # a settings file the operator creates (deploy/.env)
            continue
        if not (REPO_ROOT / path).exists():
            missing.append(path)
    assert missing == []
