"""The evaluation corpora are well-formed and never (nearly) appear in the training data."""

from __future__ import annotations

import re

import pytest

from mesoguide.evaluation.cases import load_case_files
from tests.conftest import CASE_SETS, CORPORA_DIR, nlu_examples

CASE_FILES = sorted(path for directory in CASE_SETS.values() for path in directory.glob("*.yml"))
MINIMUM = {"contraindication.yml": 150, "red_flag.yml": 50, "benign.yml": 150, "medical_advice.yml": 40}


def _tokens(text: str) -> frozenset[str]:
    return frozenset(re.findall(r"[a-z0-9']+", text.lower()))


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_case_file_is_well_formed(path) -> None:
    cases = load_case_files([path])  # raises CaseFileError naming file, case and field
    if path.parent == CORPORA_DIR:
        assert len(cases) >= MINIMUM[path.name]
    escalating = [c for c in cases if any(e.startswith("escalate:") for _, t in c.scored for e in t.expect)]
    assert all(c.must_escalate for c in escalating) or path.name.startswith("faq")


def test_no_corpus_text_is_in_the_training_data() -> None:
    training = [_tokens(t) for lines in nlu_examples().values() for t in lines]
    near = []
    for case in load_case_files(CASE_FILES):
        for turn in case.turns:
            tokens = _tokens(turn.text)
            for seen in training:
                if len(tokens & seen) / max(1, len(tokens | seen)) >= 0.8:  # same words, maybe reordered
                    near.append((case.id, turn.text))
                    break
    assert near == []
