"""``action_offer_help``: the fallback. Says what the assistant can do and how to reach people."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.guarded import GuardedAction
from actions.replies import outcome, topic_buttons
from mesoguide import constants as c

# The questions patients ask most, offered as topic buttons in this order.
HELP_TOPICS = ("what_is", "pain", "downtime", "sessions", "side_effects", "cost", "booking")


class ActionOfferHelp(GuardedAction, Action):
    """Fallback for unclear, out-of-scope or low-confidence messages.

    Constructed with ``Injected``'s keyword arguments (knowledge, matcher, store).
    """

    def name(self) -> str:
        return c.ACTION_OFFER_HELP

    async def answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        buttons = topic_buttons(self._kb, HELP_TOPICS)
        buttons.append({"title": "Talk to the clinic", "payload": f"/{c.INTENT_HUMAN}"})
        dispatcher.utter_message(text=self._kb.render(self._kb.messages.fallback), buttons=buttons)
        return [outcome(c.OUTCOME_FALLBACK)]
