"""What the actions share, built once per process and injected into each action.

rasa_sdk creates each action with no arguments, so the defaults come from here; tests pass
their own knowledge base and matcher to the constructors instead.
"""

from __future__ import annotations

import functools

from mesoguide.escalations import EscalationStore, default_store
from mesoguide.guardrail.matcher import GuardrailMatcher
from mesoguide.knowledge import KnowledgeBase, default_knowledge
from mesoguide.language.red_flags import ForeignRedFlags


@functools.lru_cache(maxsize=1)
def default_matcher() -> GuardrailMatcher:
    """The guardrail matcher for the default knowledge base, built once (~5 s) from knowledge/.

    Built from the vocabularies rather than loaded from build/guardrail_nlp, so the re-check
    can never run on a stale pipeline even if the model was not rebuilt.
    """
    return GuardrailMatcher.from_knowledge(default_knowledge())


@functools.lru_cache(maxsize=1)
def default_foreign_red_flags() -> ForeignRedFlags:
    """The other languages' red-flag matchers for the default knowledge base, built once."""
    return ForeignRedFlags.from_packs(default_knowledge().languages)


def resolve(
    knowledge: KnowledgeBase | None, matcher: GuardrailMatcher | None
) -> tuple[KnowledgeBase, GuardrailMatcher]:
    """The injected knowledge base and matcher, or the process-wide defaults."""
    kb = knowledge if knowledge is not None else default_knowledge()
    if matcher is None:
        matcher = default_matcher() if knowledge is None else GuardrailMatcher.from_knowledge(kb)
    return kb, matcher


class Injected:
    """The constructor every action shares: what it needs, injected or the process-wide one.

    A mixin, not an ``Action``, so rasa_sdk does not try to register it.

    Args:
        knowledge: Knowledge base to use (default: the process-wide one).
        matcher: Guardrail matcher to use (default: built from the knowledge base).
        store: Escalation store to use (default: ``MESOGUIDE_DATABASE_URL``, opened on first use).

    The other languages' red-flag matchers (``self._foreign``) come from the knowledge base's
    language packs.
    """

    def __init__(
        self,
        *,
        knowledge: KnowledgeBase | None = None,
        matcher: GuardrailMatcher | None = None,
        store: EscalationStore | None = None,
    ) -> None:
        self._kb, self._matcher = resolve(knowledge, matcher)
        self._store = store
        self._foreign = default_foreign_red_flags() if knowledge is None else ForeignRedFlags.from_packs(self._kb.languages)


def resolve_store(store: EscalationStore | None) -> EscalationStore:
    """The injected store, or the process-wide one."""
    return store if store is not None else default_store()
