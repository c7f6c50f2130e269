"""``action_offer_help``: the fallback. Says what the assistant can do and how to reach people."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.dependencies import Injected
from actions.escalate import escalate
from actions.guard import escalation_of_latest
from actions.replies import outcome, topic_buttons
from mesoguide import constants as c

# The questions patients ask most (SPEC §1 "topic buttons"), in the order shown.
HELP_TOPICS = ("what_is", "pain", "downtime", "sessions", "side_effects", "cost", "booking")


class ActionOfferHelp(Injected, Action):
    """Fallback for unclear, out-of-scope or low-confidence messages.

    Constructed with ``Injected``'s keyword arguments (knowledge, matcher, store).
    """

    def name(self) -> str:
        return c.ACTION_OFFER_HELP

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        # A core fallback can land here for any message: escalations still come first.
        escalation, matches = escalation_of_latest(tracker, self._matcher)
        if escalation is not None:
            return escalate(dispatcher, self._kb, escalation, matches, tracker=tracker, store=self._store)
        buttons = topic_buttons(self._kb, HELP_TOPICS)
        buttons.append({"title": "Talk to the clinic", "payload": f"/{c.INTENT_HUMAN}"})
        dispatcher.utter_message(text=self._kb.render(self._kb.messages.fallback), buttons=buttons)
        return [outcome(c.OUTCOME_FALLBACK)]
