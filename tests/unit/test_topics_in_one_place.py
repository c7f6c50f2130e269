"""knowledge/topics is the list of topics: the dialogue's wiring follows it, and says what is missing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mesoguide.knowledge.topics import BEGIN, END, out_of_step, topic_ids, wired_files
from mesoguide.paths import REPO_ROOT


def test_the_repository_is_wired_for_every_topic() -> None:
    assert out_of_step() == []


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "data").mkdir(parents=True)
    shutil.copy(REPO_ROOT / "domain.yml", root / "domain.yml")
    shutil.copy(REPO_ROOT / "data" / "rules.yml", root / "data" / "rules.yml")
    shutil.copytree(REPO_ROOT / "data" / "nlu", root / "data" / "nlu")
    shutil.copy(REPO_ROOT / "data" / "nlu.yml", root / "data" / "nlu.yml")
    shutil.copytree(REPO_ROOT / "knowledge", root / "knowledge")
    return root


def test_a_new_topic_file_names_each_missing_piece(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    (root / "knowledge" / "topics" / "microneedling.yml").write_text("id: microneedling\n", encoding="utf-8")
    problems = out_of_step(root, root / "knowledge")
    assert any(p.startswith("domain.yml") for p in problems)
    assert any(p.startswith("data/rules.yml") for p in problems)
    assert "data/nlu/: no examples for ask_microneedling (topic 'microneedling')" in problems


def test_writing_the_wiring_adds_the_intent_in_both_files(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    (root / "knowledge" / "topics" / "microneedling.yml").write_text("id: microneedling\n", encoding="utf-8")
    ids = topic_ids(root / "knowledge")
    for wired in wired_files(root):
        wired.path.write_text(wired.render(ids), encoding="utf-8")
    assert "  - ask_microneedling\n" in (root / "domain.yml").read_text(encoding="utf-8")
    assert "    - intent: ask_microneedling\n" in (root / "data" / "rules.yml").read_text(encoding="utf-8")
    assert out_of_step(root, root / "knowledge") == ["data/nlu/: no examples for ask_microneedling (topic 'microneedling')"]


def test_missing_markers_say_what_to_put_back(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    domain = root / "domain.yml"
    domain.write_text(domain.read_text(encoding="utf-8").replace(BEGIN, "").replace(END, ""), encoding="utf-8")
    with pytest.raises(ValueError, match="marker lines"):
        out_of_step(root, root / "knowledge")
