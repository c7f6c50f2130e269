"""``action_escalate``: hand the message to a clinician, never answer it (SPEC §1).

What the patient sees comes from ``knowledge/messages.yml`` (clinician-reviewed content):
no yes/no verdict, why a clinician must decide, how to reach the clinic, a callback offer;
a red flag is urgent, gives the emergency number and offers nothing that could delay the call.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.dependencies import resolve
from actions.guard import escalation_of_latest
from actions.replies import latest_intent, outcome
from mesoguide.constants import ACTION_ESCALATE
from mesoguide.guardrail.matcher import GuardrailMatch, GuardrailMatcher
from mesoguide.knowledge import KnowledgeBase
from mesoguide.outcomes import Escalation
from mesoguide.reply_meta import ReplyMeta, custom_payload

logger = logging.getLogger(__name__)


def escalate(
    dispatcher: CollectingDispatcher,
    kb: KnowledgeBase,
    escalation: Escalation,
    matches: Sequence[GuardrailMatch] = (),
) -> list[dict[str, Any]]:
    """Send the escalation message and return the events that record it.

    Args:
        dispatcher: Where the reply goes.
        kb: The knowledge base (messages and clinic facts).
        escalation: Why the message is escalated.
        matches: Guardrail terms found in the message, for the log.

    Returns:
        The events of the turn (``turn_outcome``).
    """
    text = kb.render(kb.messages.escalation[escalation.value])
    if escalation is not Escalation.RED_FLAG:
        # Red flags get nothing after the urgent message: no offer that could delay a call.
        text = f"{text}\n\n{kb.render(kb.messages.callback_offer)}"
    meta = ReplyMeta(outcome=escalation.outcome, urgent=escalation is Escalation.RED_FLAG, reference=None)
    dispatcher.utter_message(text=text, custom=custom_payload(meta))
    logger.warning(
        "escalation %s (terms: %s)", escalation.outcome, ", ".join(f"{m.entity}:{m.value}" for m in matches) or "-"
    )
    return [outcome(escalation.outcome)]


class ActionEscalate(Action):
    """Escalates the latest message with the highest-precedence reason it calls for.

    Args:
        knowledge: Knowledge base to use (default: the process-wide one).
        matcher: Guardrail matcher to use (default: built from the knowledge base).
    """

    def __init__(self, *, knowledge: KnowledgeBase | None = None, matcher: GuardrailMatcher | None = None) -> None:
        self._kb, self._matcher = resolve(knowledge, matcher)

    def name(self) -> str:
        return ACTION_ESCALATE

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        escalation, matches = escalation_of_latest(tracker, self._matcher)
        if escalation is None:
            # Routed here by a rule or a fallback policy without a reason we can name: a person
            # is still the safe destination.
            logger.error("action_escalate ran for intent %r without an escalation reason", latest_intent(tracker))
            escalation = Escalation.HUMAN
        return escalate(dispatcher, self._kb, escalation, matches)
