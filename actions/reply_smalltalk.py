"""``action_reply_smalltalk``: greetings, thanks, goodbye, "are you a bot?"."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.guarded import GuardedAction
from actions.offer_help import ActionOfferHelp
from actions.replies import latest_intent, outcome
from mesoguide import constants as c


class ActionReplySmalltalk(GuardedAction, Action):
    """Short, friendly replies; the texts say the assistant is automated ("hi, I'm pregnant" is
    not smalltalk: the guarded opening escalates it).

    Constructed with ``Injected``'s keyword arguments (knowledge, matcher, store).
    """

    def name(self) -> str:
        return c.ACTION_REPLY_SMALLTALK

    async def answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        intent = latest_intent(tracker)
        if intent is None or intent not in self._kb.messages.smalltalk:
            helper = ActionOfferHelp(knowledge=self._kb, matcher=self._matcher, store=self._store)
            return await helper.answer(dispatcher, tracker, domain)
        dispatcher.utter_message(text=self._kb.render(self._kb.messages.smalltalk[intent]))
        return [outcome(c.SMALLTALK_PREFIX + intent)]
