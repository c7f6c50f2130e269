"""``action_session_start``: every conversation opens with the disclaimer (docs/product.md).

A session also restarts after an hour of silence (``session_config`` in domain.yml). If a member
of staff has the conversation then (Rasa paused it, :mod:`mesoguide.takeover`), the new session
stays paused: a patient who comes back after an hour is still talking to the person who took the
chat over, until they hand it back. No disclaimer then: the patient is not starting anew, and the
staff member's joining message named the emergency number.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, ConversationPaused, SessionStarted
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
        if tracker.is_paused():
            return [SessionStarted(), ConversationPaused(), ActionExecuted("action_listen")]
        dispatcher.utter_message(text=self._kb.render(self._kb.messages.disclaimer))
        return [SessionStarted(), ActionExecuted("action_listen")]
