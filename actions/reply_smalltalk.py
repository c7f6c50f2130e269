"""``action_reply_smalltalk``: greetings, thanks, goodbye, "are you a bot?"."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.dependencies import resolve
from actions.escalate import escalate
from actions.guard import escalation_of_latest
from actions.offer_help import ActionOfferHelp
from actions.replies import latest_intent, outcome
from mesoguide import constants as c
from mesoguide.escalations.store import EscalationStore
from mesoguide.guardrail.matcher import GuardrailMatcher
from mesoguide.knowledge import KnowledgeBase


class ActionReplySmalltalk(Action):
    """Short, friendly replies; the texts say the assistant is automated (SPEC §1).

    Args:
        knowledge: Knowledge base to use (default: the process-wide one).
        matcher: Guardrail matcher to use (default: built from the knowledge base).
        store: Escalation store for escalations (default: ``MESOGUIDE_DATABASE_URL``).
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

    def name(self) -> str:
        return c.ACTION_REPLY_SMALLTALK

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        # "hi, I'm pregnant" is not smalltalk.
        escalation, matches = escalation_of_latest(tracker, self._matcher)
        if escalation is not None:
            return escalate(dispatcher, self._kb, escalation, matches, tracker=tracker, store=self._store)
        intent = latest_intent(tracker)
        if intent not in self._kb.messages.smalltalk:
            return await ActionOfferHelp(knowledge=self._kb, matcher=self._matcher, store=self._store).run(dispatcher, tracker, domain)
        dispatcher.utter_message(text=self._kb.render(self._kb.messages.smalltalk[intent]))
        return [outcome(c.SMALLTALK_PREFIX + intent)]
