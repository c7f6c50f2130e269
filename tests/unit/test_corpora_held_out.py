"""The held-out corpora are well-formed and never (nearly) appear in the training data."""

from __future__ import annotations

import re

import pytest

from tests.conftest import CORPORA_DIR, load_cases, nlu_examples

MINIMUM = {"contraindication.yml": 150, "red_flag.yml": 50, "benign.yml": 150, "medical_advice.yml": 40}


def _tokens(text: str) -> frozenset[str]:
    return frozenset(re.findall(r"[a-z0-9']+", text.lower()))


@pytest.mark.parametrize("name", sorted(MINIMUM))
def test_corpus_is_well_formed(name: str) -> None:
    cases = load_cases(name)
    assert len(cases) >= MINIMUM[name]
    for case in cases:
        assert isinstance(case["text"], str) and case["text"].strip()
        assert case["expect"] and all(isinstance(e, str) for e in case["expect"])
        assert case["must_escalate"] is (name != "benign.yml")


def test_no_corpus_text_is_in_the_training_data() -> None:
    training = [_tokens(t) for lines in nlu_examples().values() for t in lines]
    near = []
    for path in sorted(CORPORA_DIR.glob("*.yml")):
        for case in load_cases(path.name):
            tokens = _tokens(case["text"])
            for seen in training:
                overlap = len(tokens & seen) / max(1, len(tokens | seen))
                if overlap >= 0.8:  # same words, maybe reordered or one changed
                    near.append(case["text"])
                    break
    assert near == []
