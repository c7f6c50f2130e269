"""Build the spaCy guardrail pipeline from the vocabularies (no downloaded model).

``spacy.blank("en")`` + a lookup lemmatizer (tables from ``spacy-lookups-data``) + a
``span_ruler`` whose patterns come from ``knowledge/``. A span ruler rather than an entity
ruler because ``doc.ents`` cannot overlap: "spreading swelling after my filler" must keep both
the red flag and the contraindication, or precedence would depend on span lengths.

Matching is on lemmas of the lowercased text, so "Blood-Thinners" matches the term
"blood thinner". The same pipeline serves the Rasa component (built at training time and stored
inside the model, :mod:`.rasa_router`) and the action server's re-check (built from
``knowledge/`` at start-up), both through :class:`.matcher.GuardrailMatcher`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.pipeline import SpanRuler

from mesoguide.constants import ENTITY_TREATMENT_AREA, SPAN_EDUCATION_PHRASE
from mesoguide.errors import GuardrailPipelineError, KnowledgeError
from mesoguide.guardrail.spelling import PIPE_NAME, SpellingCorrector, build_corrector
from mesoguide.knowledge import KnowledgeBase
from mesoguide.knowledge.reading import AGE_SLOT, FEVER_SLOT, FEVER_TOKEN
from mesoguide.paths import knowledge_dir

SPANS_KEY = "guardrail"
#: The span ruler's name in the pipeline (matcher.py matches its patterns through an index).
RULER_NAME = "span_ruler"
#: Changes whenever the way patterns are built changes, so Rasa rebuilds a stored pipeline.
PIPELINE_FORMAT = "span-ruler-lemmas-spelling-shadows-education-fever-in-order-v7"


@dataclass(frozen=True)
class SpanLabel:
    """What a span of the ruler stands for, encoded in its label.

    Attributes:
        entity: The Rasa entity (``contraindication``, ``red_flag``, ...).
        value: The vocabulary entry id or area id.
        near_side: 0 for a whole match; 1 or 2 for one side of a ``near`` rule, which the
            matcher pairs up (two sides within ``max_gap`` tokens make one match).
        max_gap: For near sides: the most tokens allowed between the two sides.
        in_order: For near sides: the first side must come before the second.
    """

    entity: str
    value: str
    near_side: int = 0
    max_gap: int = 0
    in_order: bool = False

    def encode(self) -> str:
        """The label string: ``entity|value|near_side|max_gap|in_order``."""
        return f"{self.entity}|{self.value}|{self.near_side}|{self.max_gap}|{int(self.in_order)}"

    @classmethod
    def decode(cls, label: str) -> SpanLabel:
        """The label read back."""
        entity, value, side, gap, in_order = label.split("|")
        return cls(entity, value, int(side), int(gap), in_order == "1")
_OPTIONAL_HYPHEN = {"ORTH": "-", "OP": "?"}
_AGE = "xageslotx"  # stands in for AGE_SLOT ("<age>") while a term is tokenized
_FEVER = "xfeverslotx"  # stands in for FEVER_SLOT ("<fever>")
_SLOT_TOKENS = {(_AGE, _AGE), (_FEVER, _FEVER)}


def make_base_nlp() -> Language:
    """A blank English pipeline with a lookup lemmatizer, ready to match on lemmas."""
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    try:
        nlp.initialize()
    except (ValueError, OSError) as exc:  # spacy-lookups-data missing
        raise GuardrailPipelineError(
            f"cannot load spaCy's English lemma tables ({exc}); install 'spacy-lookups-data' (make setup)"
        ) from None
    return nlp


def build_nlp(kb: KnowledgeBase) -> Language:
    """The guardrail pipeline for a knowledge base: lemmatizer + span ruler from its vocabularies.

    Args:
        kb: A validated knowledge base.

    Returns:
        A spaCy pipeline whose ``doc.spans["guardrail"]`` holds every vocabulary match.
    """
    nlp = make_base_nlp()
    patterns = list(_patterns(nlp, kb))
    ruler: SpanRuler = nlp.add_pipe(  # type: ignore[assignment]  # add_pipe is typed as returning any Pipe
        "span_ruler",
        name=RULER_NAME,
        config={"spans_key": SPANS_KEY, "spans_filter": None, "annotate_ents": False, "validate": True},
    )
    ruler.add_patterns(patterns)
    built = build_corrector(_vocabulary_words(kb))
    corrector: SpellingCorrector = nlp.add_pipe(PIPE_NAME, first=True)  # type: ignore[assignment]  # typed as any Pipe
    corrector.set_words(built.vocabulary, sorted(built.protected), list(built.shadows))
    return nlp


def _vocabulary_words(kb: KnowledgeBase) -> set[str]:
    """Every word of the guardrail vocabularies' terms and near phrases (lowercase)."""
    words: set[str] = set()
    for entry in kb.vocabulary:
        phrases = [*entry.terms, *(entry.near.first + entry.near.second if entry.near else ())]
        for phrase in phrases:
            words.update(re.findall(r"[a-z]+", phrase.lower()))
    return words


def _patterns(nlp: Language, kb: KnowledgeBase) -> Iterator[dict]:
    for area in kb.areas.values():
        for tokens in _alternatives(nlp, area.terms):
            yield {"label": SpanLabel(ENTITY_TREATMENT_AREA, area.id).encode(), "pattern": tokens}
    for entry in kb.vocabulary:
        for tokens in _alternatives(nlp, entry.terms):
            yield {"label": SpanLabel(entry.category, entry.id).encode(), "pattern": tokens}
        if entry.near is not None:
            # Each side is matched on its own; the matcher pairs sides up by distance. Cheaper
            # than gap patterns: a rule of 30 x 30 phrases is 60 patterns, not 1,800.
            for side, phrases in ((1, entry.near.first), (2, entry.near.second)):
                label = SpanLabel(entry.category, entry.id, side, entry.near.max_gap, entry.near.in_order).encode()
                for tokens in _alternatives(nlp, phrases):
                    yield {"label": label, "pattern": tokens}
    if kb.education_phrases:
        label = SpanLabel(SPAN_EDUCATION_PHRASE, "phrase").encode()
        for tokens in _alternatives(nlp, kb.education_phrases):
            yield {"label": label, "pattern": tokens}


def _term_tokens(nlp: Language, phrase: str) -> list[tuple[str, str]]:
    """(lowercase form, lemma) of each token of a phrase, hyphens dropped.

    The slots ``<age>`` and ``<fever>`` become the tokens ``(_AGE, _AGE)`` and
    ``(_FEVER, _FEVER)`` (see ``_token_spec``).
    """
    doc = nlp(phrase.lower().replace(AGE_SLOT, f" {_AGE} ").replace(FEVER_SLOT, f" {_FEVER} "))
    return [(t.lower_, t.lemma_ or t.lower_) for t in doc if t.text != "-" and not t.is_space]


def _token_spec(tokens: Iterable[tuple[str, str]]) -> dict:
    """One token that may be any of these words, by form or by lemma.

    Lookup lemmas are not idempotent ("thinners" -> "thinner", but "thinner" -> "thin"), so a
    message token matches when its lemma is the term token or the term token's lemma.
    """
    tokens = list(tokens)
    if tokens == [(_AGE, _AGE)]:
        # Two digits: number words would make "I'm one of those people..." an age, and one
        # digit "I'm 3 sessions in"; ages under 18 are listed as words in the vocabulary.
        return {"IS_DIGIT": True, "LENGTH": 2}
    if tokens == [(_FEVER, _FEVER)]:
        return {"LOWER": {"REGEX": FEVER_TOKEN}}
    return {"LEMMA": {"IN": sorted({word for pair in tokens for word in pair})}}


def _alternatives(nlp: Language, phrases: Iterable[str]) -> list[list[dict]]:
    """Token-spec sequences matching any of the phrases.

    All one-word phrases share one spec (``LEMMA IN [...]``); each longer phrase gets its own
    sequence with optional hyphens between its tokens. Merging keeps the pattern count, and so
    the pipeline's load time and per-message cost, small.
    """
    single: list[tuple[str, str]] = []
    sequences: list[list[dict]] = []
    for phrase in phrases:
        tokens = _term_tokens(nlp, phrase)
        if not tokens:
            raise KnowledgeError(knowledge_dir(), f"term {phrase!r} has no words", field="terms")
        if len(tokens) == 1 and tokens[0] not in _SLOT_TOKENS:
            single.extend(tokens)
            continue
        specs: list[dict] = []
        for index, token in enumerate(tokens):
            if index:
                specs.append(dict(_OPTIONAL_HYPHEN))
            specs.append(_token_spec([token]))
        sequences.append(specs)
    if single:
        sequences.insert(0, [_token_spec(single)])
    return sequences


def vocabulary_files(knowledge: Path) -> list[Path]:
    """The files the pipeline is built from: the English vocabularies and the treatment areas,
    sorted. Other languages' red-flag files (``red_flags.<lang>.yml``) are the language rail's."""
    english = [p for p in (knowledge / "vocabularies").glob("*.yml") if p.name.count(".") == 1]
    return sorted(english) + [knowledge / "areas.yml"]


def load_nlp(directory: Path) -> Language:
    """A pipeline saved with ``nlp.to_disk`` (inside a trained model).

    Raises:
        GuardrailPipelineError: The directory holds no pipeline, or one another spaCy made.
    """
    try:
        nlp = spacy.load(directory)
    except (OSError, ValueError) as exc:
        raise GuardrailPipelineError(
            f"the model's guardrail pipeline in {directory} cannot be loaded ({exc}); retrain with `make train`"
        ) from None
    if not spacy.util.is_compatible_version(spacy.about.__version__, nlp.meta.get("spacy_version", "")):
        raise GuardrailPipelineError(
            f"the model's guardrail pipeline was built for spaCy {nlp.meta.get('spacy_version')}, "
            f"this is {spacy.about.__version__}; retrain with `make train`"
        )
    return nlp
