"""Disguised or oddly typed text is matched by the deterministic layer alone, with no classifier."""

from __future__ import annotations

import pytest

from mesoguide import constants as c
from mesoguide.guardrail.matcher import GuardrailMatcher
from mesoguide.guardrail.normalise import readings

# Each form of the same two messages: a contraindication and a red flag.
DISGUISES = {
    "non-breaking space": ("I am\u00a0pregnant", "my lips are\u00a0swelling"),
    "zero-width space": ("I am preg\u200bnant", "my lips are swel\u200bling"),
    "zero-width joiner": ("I am preg\u200dnant", "my lips are swel\u200dling"),
    "soft hyphen": ("I am preg\u00adnant", "my lips are swel\u00adling"),
    "byte-order mark": ("I am \ufeffpregnant", "my lips are \ufeffswelling"),
    "full-width letters": ("I am ｐｒｅｇｎａｎｔ", "my ｌｉｐｓ are ｓｗｅｌｌｉｎｇ"),
    "Cyrillic look-alike": ("I am pregn\u0430nt", "my lips \u0430re swelling"),
    "Greek look-alike": ("I am pregn\u03b1nt", "my lip\u0455 are swelling"),
    "digits for letters": ("I am pr3gn4nt", "my l1ps are sw3ll1ng"),
    "symbols for letters": ("I am pregn@nt", "my lip$ are $welling"),
    "typographic apostrophe": ("I\u2019m pregnant", "I can\u2019t breathe properly"),
    "upper case": ("I AM PREGNANT", "MY LIPS ARE SWELLING"),
}


@pytest.mark.parametrize("form", sorted(DISGUISES))
def test_each_disguise_is_matched_without_the_classifier(matcher: GuardrailMatcher, form: str) -> None:
    contraindication, red_flag = DISGUISES[form]
    assert c.ENTITY_CONTRAINDICATION in {m.entity for m in matcher.guardrail_matches(contraindication)}
    assert c.ENTITY_RED_FLAG in {m.entity for m in matcher.guardrail_matches(red_flag)}


def test_matches_report_the_patients_own_words_and_offsets(matcher: GuardrailMatcher) -> None:
    text = "hi, I am preg\u200bnant, ok?"
    [match] = [m for m in matcher.guardrail_matches(text) if m.entity == c.ENTITY_CONTRAINDICATION]
    assert match.text == "preg\u200bnant"
    assert text[match.start:match.end] == match.text


def test_a_blood_thinner_written_with_a_one_for_an_l(matcher: GuardrailMatcher) -> None:
    assert c.ENTITY_CONTRAINDICATION in {m.entity for m in matcher.guardrail_matches("I take b1ood thinners")}


@pytest.mark.parametrize(
    "text",
    ["I'm 85", "my 3rd session is at 10am", "they used 5ml", "does it hurt after 2 weeks", "vitamin b12 in the mix"],
)
def test_numbers_are_not_read_as_disguised_words(text: str) -> None:
    assert [r.text for r in readings(text)] == [text.lower()]


def test_a_word_wholly_in_another_script_is_left_alone() -> None:
    assert [r.text for r in readings("Я беременна")] == ["я беременна"]


def test_ordinary_questions_stay_unmatched(matcher: GuardrailMatcher) -> None:
    for text in ("does it hurt?", "how many sessions for hair", "what is the price in \u20ac", "ｈｏｗ long is downtime"):
        assert matcher.guardrail_matches(text) == [], text
