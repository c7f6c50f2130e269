"""The indexed span ruler finds exactly what spaCy's SpanRuler finds with the same patterns:
on every English message of the case sets and the training data, in every reading the
matcher makes of it (plain, digits unmasked, spelling corrected)."""

from __future__ import annotations

import pytest
import yaml
from spacy.tokens import Doc

from mesoguide.errors import GuardrailPipelineError
from mesoguide.guardrail.indexed_ruler import IndexedSpanRuler
from mesoguide.guardrail.matcher import GuardrailMatcher
from mesoguide.guardrail.normalise import readings
from mesoguide.guardrail.pipeline import RULER_NAME, SPANS_KEY
from mesoguide.paths import REPO_ROOT
from tests.unit.test_language_packs import english_case_texts


def _training_texts() -> list[str]:
    texts = []
    for path in sorted((REPO_ROOT / "data").rglob("*.yml")):
        for block in (yaml.safe_load(path.read_text()) or {}).get("nlu", []) or []:
            for line in str(block.get("examples", "")).splitlines():
                text = line.strip().removeprefix("- ").strip()
                if text:
                    texts.append(text)
    return texts


def _spans(doc: Doc) -> list[tuple[int, int, str, str]]:
    return [(s.start, s.end, s.label_, s.id_) for s in doc.spans[SPANS_KEY]]


# Hyphens, two-digit ages, punctuation and vocabulary words at the edges of a message.
EDGE_CASES = [
    "", "-", "- -", "blood-thinner", "blood - thinner", "blood -- thinner", "blood-thinners?", "im 17", "i'm 16 years old",
    "17", "age 17-year-old", "warfarin", "on warfarin-", "-warfarin", "pus", "swollen, red, hot and hard lump",
]


def test_the_indexed_ruler_finds_what_spacys_span_ruler_finds(matcher: GuardrailMatcher) -> None:
    nlp = matcher.nlp
    texts = [t for t, _ in english_case_texts()] + _training_texts() + EDGE_CASES
    assert len(texts) > 7500
    compared = differing = 0
    examples = []
    for text in texts:
        for reading in readings(text, correct=matcher._correct):
            spacys = _spans(nlp(reading.text))  # the stored pipeline, its own SpanRuler
            ours = _spans(matcher.doc(reading.text))
            compared += 1
            if spacys != ours:
                differing += 1
                examples.append((reading.text, spacys, ours))
    assert compared >= len(texts)
    assert not examples, f"{differing} of {compared} readings differ, e.g. {examples[:3]}"


def test_patterns_of_another_shape_are_refused_by_name() -> None:
    with pytest.raises(GuardrailPipelineError, match="'red_flag|x|0|0'.*shape"):
        IndexedSpanRuler(patterns=[{"label": "red_flag|x|0|0", "pattern": [{"LOWER": "pus"}]}])
    with pytest.raises(GuardrailPipelineError, match="between words"):
        IndexedSpanRuler(patterns=[{"label": "l", "pattern": [{"LEMMA": {"IN": ["a"]}}, {"ORTH": "-", "OP": "?"}]}])
    with pytest.raises(GuardrailPipelineError, match="phrase patterns"):
        IndexedSpanRuler(patterns=[{"label": "l", "pattern": "blood thinner"}])


def test_the_matcher_uses_the_index_not_the_ruler(matcher: GuardrailMatcher) -> None:
    ruler = matcher.nlp.get_pipe(RULER_NAME)
    assert matcher.nlp.pipe_names[-1] == RULER_NAME
    assert len(ruler.patterns) > 1000
    assert [m.value for m in matcher.match("I'm on warfarin")] == ["anticoagulant"]
