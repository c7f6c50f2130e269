"""The span ruler's patterns, matched through an index on each pattern's first word.

spaCy's ``Matcher`` tries every pattern at every token: with the guardrail's ~4,600 patterns
that is ~5 ms for a short message, paid twice per message (the Rasa router and the action
server's re-check) and the largest part of the assistant's CPU time per message. The
guardrail's patterns have four token shapes only (``pipeline.py``): "the token's lemma is one
of these words", an optional hyphen between words, a two-digit number (``<age>``) and a fever
temperature (``<fever>``). So the
same matches can be found by looking up each token's lemma in an index of the patterns that
can start with it, and walking only those: well under a millisecond.

The pipeline that is built, stored in the model and loaded is unchanged (its ``span_ruler``
keeps the patterns and serialises them); :class:`IndexedSpanRuler` is built from that ruler's
patterns at load time and gives the same spans in the same order as ``SpanRuler.match``.
``tests/unit/test_guardrail_indexed_ruler.py`` checks that on every English message of the
case sets; a pattern of any other shape is refused at load time, so the two can never differ
silently.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from spacy.pipeline import SpanRuler
from spacy.tokens import Doc, Span

from mesoguide.errors import GuardrailPipelineError
from mesoguide.knowledge.reading import FEVER_TOKEN

#: A step of a compiled pattern: a set of lemmas, or one of these markers.
HYPHEN = "optional-hyphen"
AGE = "two-digit-number"
FEVER = "fever-temperature"
_HYPHEN_SPEC = {"ORTH": "-", "OP": "?"}
_AGE_SPEC = {"IS_DIGIT": True, "LENGTH": 2}
_FEVER_SPEC = {"LOWER": {"REGEX": FEVER_TOKEN}}
_FEVER_RE = re.compile(FEVER_TOKEN)


@dataclass(frozen=True)
class _Pattern:
    label: str
    span_id: str
    steps: tuple[frozenset[str] | str, ...]


def _step(spec: Mapping[str, Any], position: int, label: str) -> frozenset[str] | str:
    """One token spec as a step; anything the index cannot reproduce exactly is refused."""
    if dict(spec) == _HYPHEN_SPEC and position > 0:
        return HYPHEN
    if dict(spec) == _AGE_SPEC:
        return AGE
    if dict(spec) == _FEVER_SPEC:
        return FEVER
    lemma = spec.get("LEMMA")
    if set(spec) == {"LEMMA"} and isinstance(lemma, Mapping) and set(lemma) == {"IN"}:
        words = frozenset(lemma["IN"])
        if words and all(isinstance(w, str) and w != "-" for w in words):
            return words
    raise GuardrailPipelineError(
        f"guardrail pattern {label!r}: token spec {dict(spec)!r} has a shape the indexed matcher does not "
        "reproduce (lemma IN [...], an optional hyphen between words, a two-digit number, a fever temperature); add it to "
        "mesoguide/guardrail/indexed_ruler.py with a test, or build the pattern from those shapes"
    )


class IndexedSpanRuler:
    """Finds the spans a ``SpanRuler`` with these patterns would find.

    Args:
        patterns: The ruler's patterns (``SpanRuler.patterns``): token-spec lists only.
    """

    def __init__(self, *, patterns: Iterable[Mapping[str, Any]]) -> None:
        self._by_first: dict[str, list[_Pattern]] = {}
        self._age_first: list[_Pattern] = []
        self._fever_first: list[_Pattern] = []
        for raw in patterns:
            label = str(raw["label"])
            specs = raw["pattern"]
            if isinstance(specs, str) or not specs:
                raise GuardrailPipelineError(f"guardrail pattern {label!r}: phrase patterns are not used; give token specs")
            steps = tuple(_step(spec, i, label) for i, spec in enumerate(specs))
            if steps[-1] == HYPHEN:
                raise GuardrailPipelineError(f"guardrail pattern {label!r}: an optional hyphen must sit between words")
            pattern = _Pattern(label=label, span_id=str(raw.get("id") or ""), steps=steps)
            first = steps[0]
            if first == AGE:
                self._age_first.append(pattern)
            elif first == FEVER:
                self._fever_first.append(pattern)
            else:
                assert isinstance(first, frozenset)
                for word in first:
                    self._by_first.setdefault(word, []).append(pattern)

    @classmethod
    def from_ruler(cls, ruler: SpanRuler) -> IndexedSpanRuler:
        """The index of a (built or loaded) span ruler's patterns."""
        return cls(patterns=ruler.patterns)

    def match(self, doc: Doc) -> list[Span]:
        """The spans, deduplicated and sorted exactly as ``SpanRuler.match`` returns them."""
        lemmas = [t.lemma_ for t in doc]
        orths = [t.orth_ for t in doc]
        ages = [t.is_digit and len(t) == 2 for t in doc]
        fevers = [_FEVER_RE.search(t.lower_) is not None for t in doc]
        found: set[tuple[int, int, str, str]] = set()
        for start, lemma in enumerate(lemmas):
            candidates: Sequence[_Pattern] = self._by_first.get(lemma, ())
            if ages[start]:
                candidates = [*candidates, *self._age_first]
            if fevers[start]:
                candidates = [*candidates, *self._fever_first]
            for pattern in candidates:
                end = _walk(pattern.steps, start, lemmas, orths, ages, fevers)
                if end is not None and end != start:
                    found.add((start, end, pattern.label, pattern.span_id))
        spans = {Span(doc, s, e, label=label, span_id=span_id) for s, e, label, span_id in found}
        return sorted(spans)  # type: ignore[type-var]  # Span orders itself as SpanRuler sorts it


def _walk(
    steps: Sequence[frozenset[str] | str], start: int, lemmas: list[str], orths: list[str], ages: list[bool], fevers: list[bool]
) -> int | None:
    """Where a pattern that starts at ``start`` ends, or None when it does not match there.

    An optional hyphen takes a "-" token when there is one: no word step accepts "-", so the
    Matcher's other branch (skipping it) could never go on.
    """
    position = start
    for step in steps:
        if step == HYPHEN:
            if position < len(orths) and orths[position] == "-":
                position += 1
            continue
        if position >= len(lemmas):
            return None
        if step == AGE:
            if not ages[position]:
                return None
        elif step == FEVER:
            if not fevers[position]:
                return None
        elif lemmas[position] not in step:
            return None
        position += 1
    return position
