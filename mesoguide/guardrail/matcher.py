"""Read guardrail matches out of a spaCy doc, and match raw text in the action server.

The Rasa component reads the doc that Rasa's ``SpacyNLP`` already made; the action server,
which has no Rasa NLU pipeline, uses :class:`GuardrailMatcher` on the message text. Both go
through :func:`matches_in_doc`, so they cannot disagree about what a match is.
"""

from __future__ import annotations

from dataclasses import dataclass

from spacy.language import Language
from spacy.tokens import Doc

from mesoguide.constants import ENTITY_TREATMENT_AREA, GUARDRAIL_ENTITIES
from mesoguide.guardrail.pipeline import LABEL_SEPARATOR, SPANS_KEY, build_nlp
from mesoguide.knowledge import KnowledgeBase


@dataclass(frozen=True)
class GuardrailMatch:
    """One vocabulary or area match.

    Attributes:
        entity: ``contraindication``, ``red_flag`` or ``treatment_area``.
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
        """True for red-flag and contraindication matches (not areas)."""
        return self.entity in GUARDRAIL_ENTITIES


def matches_in_doc(doc: Doc, original_text: str | None = None) -> list[GuardrailMatch]:
    """The matches of a doc, in text order, overlaps reduced as explained below.

    Args:
        doc: A doc made by the guardrail pipeline (possibly from lowercased text).
        original_text: The message as the patient wrote it, to report matched words with
            their own casing when lowercasing kept the offsets.

    Returns:
        Matches in text order.
    """
    text = original_text if original_text is not None and len(original_text) == len(doc.text) else doc.text
    # Overlapping guardrail matches of one vocabulary entry ("blood thinner" in "blood
    # thinners") are one match; different entries that overlap ("allergic to" / "lidocaine")
    # all count, so the audit trail names every term a clinician may want to see. Areas keep
    # only the longest ("double chin" is body, not face): the slot takes one area.
    groups: dict[tuple[str, str], list] = {}
    for span in doc.spans.get(SPANS_KEY, []):
        entity, _, value = span.label_.partition(LABEL_SEPARATOR)
        key = (entity, "" if entity == ENTITY_TREATMENT_AREA else value)
        groups.setdefault(key, []).append((span, value))
    matches = []
    for (entity, _), spans in groups.items():
        taken: list[tuple[int, int]] = []
        for span, value in sorted(spans, key=lambda sv: (sv[0].start - sv[0].end, sv[0].start)):
            if any(span.start < end and start < span.end for start, end in taken):
                continue
            taken.append((span.start, span.end))
            matches.append(
                GuardrailMatch(
                    entity=entity,
                    value=value,
                    text=text[span.start_char:span.end_char],
                    start=span.start_char,
                    end=span.end_char,
                )
            )
    return sorted(matches, key=lambda m: (m.start, m.entity))


class GuardrailMatcher:
    """Matches message text against the vocabularies, the way the Rasa pipeline does.

    Args:
        nlp: A pipeline from :func:`mesoguide.guardrail.pipeline.build_nlp`.
    """

    def __init__(self, *, nlp: Language) -> None:
        self._nlp = nlp

    @classmethod
    def from_knowledge(cls, kb: KnowledgeBase) -> GuardrailMatcher:
        """Build the pipeline in memory from a knowledge base (about a second)."""
        return cls(nlp=build_nlp(kb))

    def match(self, text: str) -> list[GuardrailMatch]:
        """All matches in a message (areas included)."""
        # Lowercase like Rasa's SpacyNLP(case_sensitive=false): lemma tables are lowercase.
        return matches_in_doc(self._nlp(text.lower()), original_text=text)

    def guardrail_matches(self, text: str) -> list[GuardrailMatch]:
        """Only the red-flag and contraindication matches of a message."""
        return [m for m in self.match(text) if m.is_guardrail]
