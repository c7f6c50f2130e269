"""Build the spaCy guardrail pipeline from the vocabularies (no downloaded model).

``spacy.blank("en")`` + a lookup lemmatizer (tables from ``spacy-lookups-data``) + a
``span_ruler`` whose patterns come from ``knowledge/``. A span ruler rather than an entity
ruler because ``doc.ents`` cannot overlap: "spreading swelling after my filler" must keep both
the red flag and the contraindication, or precedence would depend on span lengths.

Matching is on lemmas of the lowercased text, so "Blood-Thinners" matches the term
"blood thinner". The same pipeline serves Rasa (``SpacyNLP`` with ``case_sensitive: false``,
which lowercases) and the action server (:class:`mesoguide.guardrail.matcher.GuardrailMatcher`,
which lowercases too).

Run ``python -m mesoguide.guardrail.pipeline`` to (re)build ``build/guardrail_nlp``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import spacy
from spacy.language import Language

from mesoguide.constants import ENTITY_TREATMENT_AREA
from mesoguide.errors import GuardrailPipelineError, KnowledgeError
from mesoguide.knowledge import KnowledgeBase, load_knowledge
from mesoguide.knowledge.models import NearRule
from mesoguide.paths import guardrail_model_dir, knowledge_dir

SPANS_KEY = "guardrail"
# A span label carries the Rasa entity name and the vocabulary id: "contraindication|anticoagulant".
LABEL_SEPARATOR = "|"
_OPTIONAL_HYPHEN = {"ORTH": "-", "OP": "?"}


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
    ruler = nlp.add_pipe(
        "span_ruler",
        config={"spans_key": SPANS_KEY, "spans_filter": None, "annotate_ents": False, "validate": True},
    )
    ruler.add_patterns(patterns)
    return nlp


def _patterns(nlp: Language, kb: KnowledgeBase) -> Iterator[dict]:
    for area in kb.areas.values():
        for term in area.terms:
            yield _pattern(ENTITY_TREATMENT_AREA, area.id, _phrase_specs(nlp, term))
    for entry in kb.vocabulary:
        for term in entry.terms:
            yield _pattern(entry.category, entry.id, _phrase_specs(nlp, term))
        if entry.near is not None:
            for tokens in _near_token_patterns(nlp, entry.near):
                yield _pattern(entry.category, entry.id, tokens)


def _pattern(entity: str, term_id: str, tokens: list[dict]) -> dict:
    return {"label": f"{entity}{LABEL_SEPARATOR}{term_id}", "pattern": tokens}


def _term_tokens(nlp: Language, phrase: str) -> list[tuple[str, str]]:
    """(lowercase form, lemma) of each token of a phrase, hyphens dropped."""
    doc = nlp(phrase.lower())
    return [(t.lower_, t.lemma_ or t.lower_) for t in doc if t.text != "-" and not t.is_space]


def _phrase_specs(nlp: Language, phrase: str) -> list[dict]:
    """Token specs for a phrase: each token by its form or its lemma, optional hyphens between.

    A token of the message matches when its lemma is the term token or the term token's lemma:
    lookup lemmas are not idempotent ("thinners" -> "thinner", but "thinner" -> "thin"), so
    "blood thinner" must accept both to match "blood thinners".
    """
    specs: list[dict] = []
    for index, (form, lemma) in enumerate(_term_tokens(nlp, phrase)):
        if index:
            specs.append(dict(_OPTIONAL_HYPHEN))
        specs.append({"LEMMA": {"IN": sorted({form, lemma})}})
    if not specs:
        raise KnowledgeError(knowledge_dir(), f"term {phrase!r} has no words", field="terms")
    return specs


def _near_token_patterns(nlp: Language, rule: NearRule) -> Iterator[list[dict]]:
    """Patterns for "a word of `first` within `max_gap` tokens of a word of `second`"."""
    gap = [{"OP": "?"}] * rule.max_gap
    for first in rule.first:
        for second in rule.second:
            a, b = _phrase_specs(nlp, first), _phrase_specs(nlp, second)
            yield a + gap + b
            yield b + gap + a


def build_to_disk(*, knowledge: Path, output: Path) -> Path:
    """Build the pipeline from a knowledge directory and save it where ``SpacyNLP`` loads it.

    Args:
        knowledge: The ``knowledge/`` directory.
        output: The directory to write (replaced if present).

    Returns:
        The output directory.
    """
    nlp = build_nlp(load_knowledge(knowledge))
    output.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(output)
    return output


def main(argv: Iterable[str] = ()) -> int:
    """CLI: ``python -m mesoguide.guardrail.pipeline [OUTPUT_DIR]``."""
    args = list(argv)
    output = Path(args[0]) if args else guardrail_model_dir()
    try:
        build_to_disk(knowledge=knowledge_dir(), output=output)
    except (KnowledgeError, GuardrailPipelineError) as exc:
        print(f"guardrail pipeline not built: {exc}", file=sys.stderr)
        return 1
    print(f"guardrail pipeline built: {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
