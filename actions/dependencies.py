"""What the actions share, built once per process and injected into each action.

rasa_sdk creates each action with no arguments, so the defaults come from here; tests pass
their own knowledge base and matcher to the constructors instead.
"""

from __future__ import annotations

import functools

from mesoguide.guardrail.matcher import GuardrailMatcher
from mesoguide.knowledge import KnowledgeBase, default_knowledge


@functools.lru_cache(maxsize=1)
def default_matcher() -> GuardrailMatcher:
    """The guardrail matcher for the default knowledge base, built once (~5 s) from knowledge/.

    Built from the vocabularies rather than loaded from build/guardrail_nlp, so the re-check
    can never run on a stale pipeline even if the model was not rebuilt.
    """
    return GuardrailMatcher.from_knowledge(default_knowledge())


def resolve(
    knowledge: KnowledgeBase | None, matcher: GuardrailMatcher | None
) -> tuple[KnowledgeBase, GuardrailMatcher]:
    """The injected knowledge base and matcher, or the process-wide defaults."""
    kb = knowledge if knowledge is not None else default_knowledge()
    if matcher is None:
        matcher = default_matcher() if knowledge is None else GuardrailMatcher.from_knowledge(kb)
    return kb, matcher
