"""Misspelled medicine and condition names are caught; ordinary words are never turned into terms."""

from __future__ import annotations

from pathlib import Path

import pytest

from mesoguide import constants as c
from mesoguide.guardrail.matcher import GuardrailMatcher
from mesoguide.guardrail.pipeline import load_nlp
from mesoguide.guardrail.spelling import PIPE_NAME, SpellingCorrector, edit_distance


@pytest.mark.parametrize(
    ("text", "entity", "value"),
    [
        ("I take anticoagulents daily, can I do meso?", c.ENTITY_CONTRAINDICATION, "anticoagulant"),
        ("on waferin for atrial fib, meso ok?", c.ENTITY_CONTRAINDICATION, "anticoagulant"),
        ("allergic to lidocane", c.ENTITY_CONTRAINDICATION, None),
        ("i have epilepcy, can i do meso", c.ENTITY_CONTRAINDICATION, "epilepsy"),
        ("blistres on my face after meso", c.ENTITY_RED_FLAG, "blisters_sores"),
        ("im on predisolone steriods", c.ENTITY_CONTRAINDICATION, "corticosteroid"),
    ],
)
def test_misspelled_terms_are_matched(matcher: GuardrailMatcher, text: str, entity: str, value: str | None) -> None:
    found = {(m.entity, m.value) for m in matcher.guardrail_matches(text)}
    assert any(e == entity and (value is None or v == value) for e, v in found), found


@pytest.mark.parametrize(
    "text",
    [
        "do i need a consulation before meso",  # one slip from a rare word, but a common word misspelled
        "is it very painfull",
        "how many sesions for hair loss",
        "brightening meso for uneven complexion",
        "what are peptides and serums",
        "dermal filer vs meso price",
        "celulite injections do they work",
        "practicioner experience matters?",
    ],
)
def test_ordinary_words_and_their_misspellings_stay_unmatched(matcher: GuardrailMatcher, text: str) -> None:
    assert matcher.guardrail_matches(text) == []


def test_common_words_near_a_term_are_protected() -> None:
    corrector = SpellingCorrector(vocabulary=["lupus", "warfarin"], protected=["lupas"])
    assert corrector.correct("lupuss") == "lupus"
    assert corrector.correct("lupas") is None, "protected"
    assert corrector.correct("warfare") is None, "two edits from an 8-letter word"
    assert corrector.correct("lups") is None, "too short to guess"
    assert corrector.correct("lupus" * 10_000) is None, "a 50,000-letter word is not looked up"


@pytest.mark.parametrize(
    ("a", "b", "distance"), [("warfrin", "warfarin", 1), ("lupsu", "lupus", 1), ("abc", "abc", 0), ("kitten", "sitting", 3)]
)
def test_edit_distance_counts_a_swap_as_one(a: str, b: str, distance: int) -> None:
    assert edit_distance(a, b, limit=5) == distance


def test_the_corrector_travels_with_the_saved_pipeline(matcher: GuardrailMatcher, tmp_path: Path) -> None:
    matcher.nlp.to_disk(tmp_path / "nlp")
    loaded = GuardrailMatcher(nlp=load_nlp(tmp_path / "nlp"))
    assert PIPE_NAME in loaded.nlp.pipe_names
    assert {m.value for m in loaded.guardrail_matches("I take anticoagulents")} == {"anticoagulant"}


def test_a_slip_on_a_common_word_is_not_a_two_edit_correction() -> None:
    """"permanant" is two edits from the listed misspelling "preganant" but one from "permanent"."""
    corrector = SpellingCorrector(vocabulary=["preganant", "anticoagulants"], shadows=["permanent"])
    assert corrector.correct("permanant") is None
    assert corrector.correct("anticoagulents") == "anticoagulants", "no common word one edit away"


def test_the_real_pipeline_keeps_permanent_questions_apart_from_pregnancy(matcher) -> None:
    assert matcher.guardrail_matches("is it permanant") == []
    assert {m.value for m in matcher.guardrail_matches("im pregnat, is it ok")} == {"pregnancy"}
