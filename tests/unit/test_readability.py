"""The reading-level check (docs/product.md): the Flesch-Kincaid function on known texts, then every
answer, variant and message the assistant can send, at grade 8 or below."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mesoguide.constants import READING_GRADE_MAX
from mesoguide.knowledge import KnowledgeBase
from mesoguide.knowledge.readability import (
    Readability,
    count_syllables,
    distribution_report,
    flesch_kincaid_grade,
    knowledge_grades,
    main,
    measure,
)
from mesoguide.paths import REPO_ROOT
from tests.unit.test_content_rules import message_texts

#: Distribution reports, by section title; tests/unit/conftest.py prints them in the summary.
READING_LEVELS: dict[str, str] = {}


# --- the function on known texts ------------------------------------------------------------


def test_formula_matches_the_published_worked_example() -> None:
    """Wikipedia's worked example of the formula: 13 words, 24 syllables, one sentence -> 11.3."""
    assert Readability(words=13, sentences=1, syllables=24).grade == pytest.approx(11.26, abs=0.01)


def test_one_syllable_sentence() -> None:
    """6 words, 6 syllables, 1 sentence: 0.39 * 6 + 11.8 * 1 - 15.59 = -1.45."""
    reading = measure("The cat sat on the mat.")
    assert (reading.words, reading.sentences, reading.syllables) == (6, 1, 6)
    assert flesch_kincaid_grade("The cat sat on the mat.") == pytest.approx(-1.45)


# Dictionary syllable counts (CMU Pronouncing Dictionary; "mesotherapy", absent there, by its
# parts me-so-ther-a-py), each exercising one spelling rule.
DICTIONARY_COUNTS = {
    "the": 1, "skin": 1, "makes": 1, "lines": 1, "used": 1, "called": 1, "scale": 1, "free": 1,
    "table": 2, "needles": 2, "places": 2, "changes": 2, "treated": 2, "handled": 2, "likely": 2,
    "safety": 2, "treatment": 2, "technique": 2, "pipeline": 2, "tissue": 2, "beyond": 2,
    "swelling": 2, "bruising": 2, "usual": 3, "area": 3, "reaction": 3, "media": 3, "radio": 3,
    "calcium": 3, "video": 3, "ingredient": 4, "people": 2, "applying": 3, "going": 2,
    "mechanism": 4, "injection": 3, "mesotherapy": 5, "hyaluronic": 5, "antioxidant": 5,
    "practitioner": 4, "FDA": 3, "vs": 2, "micro-injury": 5, "12": 2,
}


@pytest.mark.parametrize(("word", "syllables"), sorted(DICTIONARY_COUNTS.items()))
def test_syllables_match_the_dictionary(word: str, syllables: int) -> None:
    assert count_syllables(word) == syllables


def test_sentences_end_only_at_full_stops_question_and_exclamation_marks() -> None:
    assert measure("It helps. Does it hurt? Yes!").sentences == 3
    assert measure("Two points: first; second.").sentences == 1
    assert measure("In the U.S. the rule differs, e.g. for fat.").sentences == 1  # abbreviations
    assert measure("It takes 1.5 hours.").sentences == 1  # a decimal point
    assert measure("A last line without a stop").sentences == 1
    assert measure("One. And a last line without a stop").sentences == 2


def test_placeholders_count_as_one_short_word_and_the_regulatory_note_as_none() -> None:
    assert measure("Call {phone} now.") == measure("Call X now.")
    assert measure("Rules differ. {regulatory_note}") == measure("Rules differ.")


def test_harder_text_scores_higher() -> None:
    plain = "Some skin goes red for a day or two. This is common. It fades."
    dense = ("Transient erythematous reactions, occasionally accompanied by localized oedema, "
             "are commonly documented following intradermal administration.")
    assert flesch_kincaid_grade(plain) < 4 < 14 < flesch_kincaid_grade(dense)
    assert measure("") == Readability(words=0, sentences=1, syllables=0) and measure("").grade == 0.0


def test_distribution_report_shows_spread_histogram_and_offenders() -> None:
    report = distribution_report({"a": 5.2, "b": 7.9, "c": 7.1, "d": 9.4})
    assert report.splitlines()[0] == "4 texts: min 5.2, median 7.5, max 9.4; 1 above grade 8"
    assert "grade  7.0- 8.0 | ## 2" in report and "grade  6.0- 7.0 |  0" in report
    assert "above 8: d (9.4)" in report


# --- every text the assistant sends ---------------------------------------------------------


def _topic_texts(kb: KnowledgeBase) -> Iterator[tuple[str, str]]:
    for topic in kb.topics.values():
        yield f"topics/{topic.id}.answer", topic.answer
        for area, text in topic.variants.items():
            yield f"topics/{topic.id}.variants.{area}", text


def test_every_answer_and_variant_reads_at_grade_8_or_below(kb: KnowledgeBase) -> None:
    grades = {where: flesch_kincaid_grade(text) for where, text in _topic_texts(kb)}
    READING_LEVELS["reading level of answers and variants (Flesch-Kincaid grade)"] = distribution_report(grades)
    assert {where: round(g, 1) for where, g in grades.items() if g > READING_GRADE_MAX} == {}


def test_every_message_reads_at_grade_8_or_below(kb: KnowledgeBase) -> None:
    grades = {where: flesch_kincaid_grade(text) for where, text in message_texts(kb)}
    READING_LEVELS["reading level of messages.yml (Flesch-Kincaid grade)"] = distribution_report(grades)
    assert {where: round(g, 1) for where, g in grades.items() if g > READING_GRADE_MAX} == {}


def test_the_command_measures_the_texts_the_gate_measures(kb: KnowledgeBase, capsys: pytest.CaptureFixture[str]) -> None:
    grades = knowledge_grades(REPO_ROOT / "knowledge")
    assert grades["answers and variants"] == {w: flesch_kincaid_grade(t) for w, t in _topic_texts(kb)}
    assert grades["messages"] == {w: flesch_kincaid_grade(t) for w, t in message_texts(kb)}
    assert main([str(REPO_ROOT / "knowledge")]) == 0
    assert f"answers and variants (Flesch-Kincaid grade):\n{len(grades['answers and variants'])} texts" in capsys.readouterr().out
