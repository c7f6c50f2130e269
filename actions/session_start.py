"""``action_session_start``: every conversation opens with the disclaimer (docs/product.md)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, SessionStarted
from rasa_sdk.executor import CollectingDispatcher

from mesoguide.knowledge import KnowledgeBase, default_knowledge


class ActionSessionStart(Action):
    """Starts a session with the disclaimer; slots are not carried over (privacy).

    Args:
        knowledge: Knowledge base to use (default: the process-wide one).
    """

    def __init__(self, *, knowledge: KnowledgeBase | None = None) -> None:
        self._kb = knowledge if knowledge is not None else default_knowledge()

    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(text=self._kb.render(self._kb.messages.disclaimer))
        return [SessionStarted(), ActionExecuted("action_listen")]
