"""Match a message against the vocabularies: red flags, contraindications, medical advice, areas.

The Rasa component (:mod:`.rasa_router`) and the actions' re-check (:mod:`.action_check`) both
use :class:`GuardrailMatcher`, so they cannot disagree about what a match is.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from spacy.language import Language
from spacy.tokens import Doc

from mesoguide.constants import (
    ENTITY_CONTRAINDICATION,
    ENTITY_MEDICAL_ADVICE,
    ENTITY_TREATMENT_AREA,
    GUARDRAIL_ENTITIES,
    SPAN_EDUCATION_PHRASE,
)
from mesoguide.errors import GuardrailPipelineError
from mesoguide.guardrail.indexed_ruler import IndexedSpanRuler
from mesoguide.guardrail.normalise import Normalised, readings
from mesoguide.guardrail.pipeline import RULER_NAME, SPANS_KEY, SpanLabel, build_nlp
from mesoguide.guardrail.spelling import PIPE_NAME, SpellingCorrector
from mesoguide.knowledge import KnowledgeBase


@dataclass(frozen=True)
class GuardrailMatch:
    """One vocabulary or area match.

    Attributes:
        entity: ``red_flag``, ``contraindication``, ``medical_advice`` or ``treatment_area``.
        value: The vocabulary entry id or area id (``anticoagulant``, ``face``).
        text: The words of the message that matched.
        start: Character offset where the match starts.
        end: Character offset where it ends.
    """

    entity: str
    value: str
    text: str
    start: int
    end: int

    @property
    def is_guardrail(self) -> bool:
        """True for red-flag, contraindication and medical-advice matches (not areas)."""
        return self.entity in GUARDRAIL_ENTITIES


def matches_in_doc(doc: Doc, reading: Normalised, original_text: str) -> list[GuardrailMatch]:
    """The matches of a doc made from one normalised reading of a message, in text order.

    Args:
        doc: A doc the guardrail pipeline made from ``reading.text``.
        reading: The normalised reading, which maps offsets back to the message.
        original_text: The message as the patient wrote it: matches report its own words.

    Returns:
        Whole-term matches and paired ``near`` sides, overlaps reduced (see ``_reduce``), without
        the vocabulary matches that lie wholly inside an education phrase.
    """
    found: list[tuple[str, str, int, int]] = []  # entity, value, token start, token end
    sides: dict[tuple[str, str, int, bool], tuple[list, list]] = {}
    education: list[tuple[int, int]] = []
    for span in doc.spans.get(SPANS_KEY, []):
        label = SpanLabel.decode(span.label_)
        if label.entity == SPAN_EDUCATION_PHRASE:
            education.append((span.start, span.end))
        elif label.near_side:
            key = (label.entity, label.value, label.max_gap, label.in_order)
            sides.setdefault(key, ([], []))[label.near_side - 1].append((span.start, span.end))
        else:
            found.append((label.entity, label.value, span.start, span.end))
    for (entity, value, max_gap, in_order), (firsts, seconds) in sides.items():
        found.extend((entity, value, s, e) for s, e in _near_pairs(firsts, seconds, max_gap, in_order=in_order))
    found = [f for f in found if not _inside_education(f, education)]
    matches = []
    for entity, value, start, end in _reduce(found):
        first, last = reading.span(doc[start].idx, doc[end - 1].idx + len(doc[end - 1]))
        matches.append(GuardrailMatch(entity=entity, value=value, text=original_text[first:last], start=first, end=last))
    return matches


#: The matches an education phrase may cancel: never a red flag.
_CANCELLABLE = frozenset({ENTITY_CONTRAINDICATION, ENTITY_MEDICAL_ADVICE})


def _inside_education(found: tuple[str, str, int, int], education: list[tuple[int, int]]) -> bool:
    """True for a contraindication or medical-advice match that lies wholly inside an education phrase.

    "is there an allergy test before the first session?" names a step of the consultation, not
    an allergy of the patient's; "i'm allergic to lidocaine, is there an allergy test?" still
    escalates on "allergic to", which lies outside the phrase. A red flag is never cancelled (a
    sign told inside a general-sounding phrase is still a sign), nor is an area.
    """
    entity, _, start, end = found
    return entity in _CANCELLABLE and any(e_start <= start and end <= e_end for e_start, e_end in education)


def _near_pairs(
    firsts: list[tuple[int, int]], seconds: list[tuple[int, int]], max_gap: int, *, in_order: bool = False
) -> list[tuple[int, int]]:
    """Token ranges covering a first and a second side at most ``max_gap`` tokens apart.

    With ``in_order`` the first side must end before the second begins.
    """
    pairs = []
    for a_start, a_end in firsts:
        for b_start, b_end in seconds:
            if in_order and a_end > b_start:
                continue
            gap = b_start - a_end if a_end <= b_start else a_start - b_end
            if 0 <= gap <= max_gap:
                pairs.append((min(a_start, b_start), max(a_end, b_end)))
    return pairs


def _reduce(found: list[tuple[str, str, int, int]]) -> list[tuple[str, str, int, int]]:
    """Drop overlaps, longest first.

    Overlapping guardrail matches of one vocabulary entry ("blood thinner" in "blood
    thinners") are one match; different entries that overlap ("allergic to" / "lidocaine")
    all count, so the audit trail names every term a clinician may want to see. Areas keep
    only the longest ("double chin" is body, not face): the slot takes one area.
    """
    kept: list[tuple[str, str, int, int]] = []
    for entity, value, start, end in sorted(found, key=lambda f: (f[2] - f[3], f[2])):
        if any(_same_kind(k, entity, value) and start < k[3] and k[2] < end for k in kept):
            continue
        kept.append((entity, value, start, end))
    return sorted(kept, key=lambda k: (k[2], k[0]))


def _same_kind(kept: tuple[str, str, int, int], entity: str, value: str) -> bool:
    """Areas compete with every area; vocabulary matches only with the same entry."""
    return kept[0] == entity if entity == ENTITY_TREATMENT_AREA else kept[:2] == (entity, value)


#: How many messages' matches a matcher remembers (a few kB each at most).
REMEMBERED_MESSAGES = 512


class GuardrailMatcher:
    """Matches message text against the vocabularies, the way the Rasa pipeline does.

    Args:
        nlp: A pipeline from :func:`mesoguide.guardrail.pipeline.build_nlp`.
    """

    def __init__(self, *, nlp: Language) -> None:
        self._nlp = nlp
        # Pipelines saved before the corrector existed have none: they match exact spellings.
        corrector = nlp.get_pipe(PIPE_NAME) if PIPE_NAME in nlp.pipe_names else None
        self._correct = corrector.correct if isinstance(corrector, SpellingCorrector) else None
        # The ruler's own patterns, matched through a first-word index (same spans, ~20x faster:
        # indexed_ruler.py); the pipes before it (corrector, lemmatizer) run as they are.
        if nlp.pipe_names[-1:] != [RULER_NAME]:
            raise GuardrailPipelineError(f"the guardrail pipeline must end with its {RULER_NAME!r}: {nlp.pipe_names}")
        self._indexed = IndexedSpanRuler.from_ruler(nlp.get_pipe(RULER_NAME))  # type: ignore[arg-type]
        self._before = [proc for name, proc in nlp.pipeline if name != RULER_NAME]
        self._remembered = functools.lru_cache(maxsize=REMEMBERED_MESSAGES)(self._match)

    def doc(self, text: str) -> Doc:
        """The pipeline's doc of one reading: what ``nlp(text)`` makes, the ruler's spans indexed."""
        doc = self._nlp.make_doc(text)
        for proc in self._before:
            doc = proc(doc)
        doc.spans[SPANS_KEY] = self._indexed.match(doc)
        return doc

    @property
    def nlp(self) -> Language:
        """The spaCy pipeline (what a trained model stores)."""
        return self._nlp

    @classmethod
    def from_knowledge(cls, kb: KnowledgeBase) -> GuardrailMatcher:
        """Build the pipeline in memory from a knowledge base (about 5 s)."""
        return cls(nlp=build_nlp(kb))

    def match(self, text: str) -> list[GuardrailMatch]:
        """All matches in a message (areas included), read through :mod:`.normalise`.

        A message with digits for letters has more than one reading; their matches are merged.
        The last few hundred messages' matches are remembered (a pure function of the text and
        the vocabularies): the action server reads the same message for its re-check, the
        conversation context and the language of the reply.
        """
        return list(self._remembered(text))

    def _match(self, text: str) -> tuple[GuardrailMatch, ...]:
        merged: dict[tuple[str, str, int, int], GuardrailMatch] = {}
        for reading in readings(text, correct=self._correct):
            for match in matches_in_doc(self.doc(reading.text), reading, text):
                merged.setdefault((match.entity, match.value, match.start, match.end), match)
        return tuple(sorted(merged.values(), key=lambda m: (m.start, m.entity)))

    def guardrail_matches(self, text: str) -> list[GuardrailMatch]:
        """Only the red-flag, contraindication and medical-advice matches of a message."""
        return [m for m in self.match(text) if m.is_guardrail]
