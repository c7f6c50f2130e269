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


# In a conversation, a short reply ("yes please", "thanks", "for hair?") is judged by what came
# before it, not by its words: such replies are in the training data by nature. Longer turns, and
# every single-message case, must not be.
SHORT_REPLY_WORDS = 3


NEAR_COPY = 0.8  # Jaccard similarity of the word sets: the same words, maybe reordered


def test_no_corpus_text_is_in_the_training_data() -> None:
    # Examples are grouped by their number of distinct words: two sets of sizes a <= b have a
    # Jaccard similarity of at most a / b, so only sizes within NEAR_COPY of each other are compared.
    by_size: dict[int, list[frozenset[str]]] = {}
    for lines in nlu_examples().values():
        for text in lines:
            tokens = _tokens(text)
            by_size.setdefault(len(tokens), []).append(tokens)
    near = []
    for case in load_case_files(CASE_FILES):
        for turn in case.turns:
            if len(case.turns) > 1 and len(turn.text.split()) <= SHORT_REPLY_WORDS:
                continue
            tokens = _tokens(turn.text)
            size = len(tokens)
            sizes = range(int(size * NEAR_COPY), int(size / NEAR_COPY) + 1)
            seen = (other for n in sizes for other in by_size.get(n, ()))
            if any(len(tokens & other) / max(1, len(tokens | other)) >= NEAR_COPY for other in seen):
                near.append((case.id, turn.text))
    assert near == []
