"""The base of every action that would answer: the escalation is decided again first.

Answering, the fallback and smalltalk all open the same way: if the latest message calls for an
escalation (:func:`mesoguide.guardrail.action_check.escalation_of_latest`), the patient gets the
escalation, whatever the dialogue predicted. Subclasses write only what they do otherwise.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.dependencies import Injected
from actions.escalate import escalate
from actions.languages import reply_languages
from mesoguide import constants as c
from mesoguide.guardrail.action_check import escalation_of_latest


class GuardedAction(Injected):
    """Escalates when the latest message calls for it, else runs :meth:`answer`.

    A mixin, not an ``Action``, so rasa_sdk does not try to register it: subclasses list
    ``Action`` after it (``class ActionAnswerTopic(GuardedAction, Action)``).
    """

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """The escalation if the message calls for one, else the action's own reply."""
        escalation, matches = escalation_of_latest(tracker, self._matcher, foreign=self._foreign)
        if escalation is not None:
            return escalate(
                dispatcher, self._kb, escalation, matches, tracker=tracker, store=self._store,
                reply=reply_languages(tracker, self._foreign, self._matcher),
            )
        events = await self.answer(dispatcher, tracker, domain)
        # Whatever the last reply offered is answered or passed over by now.
        if not any(e.get("event") == "slot" and e.get("name") == c.SLOT_AWAITING for e in events):
            events.append(SlotSet(c.SLOT_AWAITING, None))
        return events

    async def answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """The action's reply to a message that may be answered."""
        raise NotImplementedError(f"{type(self).__name__} must define answer()")
