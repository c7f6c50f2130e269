"""``action_answer_topic``: the curated answer of a topic, for the patient's area if known.

The topic comes from the FAQ intent (``ask_sessions``) or, for a follow-up that only names an
area ("and for the face?"), from the topic answered last. Before answering, the message is
checked again for anything that must be escalated (:class:`actions.guarded.GuardedAction`).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.guarded import GuardedAction
from actions.replies import latest_intent, outcome, topic_buttons
from mesoguide import constants as c
from mesoguide.knowledge.topics import answer_outcome, topic_for_intent

# Offered when the patient names an area but we do not know which topic they mean.
AREA_FOLLOW_UP_TOPICS = ("sessions", "results_timing", "downtime", "side_effects")


class ActionAnswerTopic(GuardedAction, Action):
    """Answers an education question from ``knowledge/topics``.

    Constructed with ``Injected``'s keyword arguments (knowledge, matcher, store).
    """

    def name(self) -> str:
        return c.ACTION_ANSWER_TOPIC

    async def answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        area = tracker.get_slot(c.SLOT_TREATMENT_AREA)
        intent = latest_intent(tracker)
        topic_id = topic_for_intent(intent, self._kb.topics)
        if topic_id is None and intent == c.INTENT_INFORM_AREA:
            topic_id = tracker.get_slot(c.SLOT_CURRENT_TOPIC)
        if topic_id is None or topic_id not in self._kb.topics:
            return self._ask_which_topic(dispatcher, area)

        topic = self._kb.topics[topic_id]
        text, _ = topic.text_for(area)
        dispatcher.utter_message(text=self._kb.render(text), buttons=topic_buttons(self._kb, topic.related))
        return [outcome(answer_outcome(topic.id)), SlotSet(c.SLOT_CURRENT_TOPIC, topic.id)]

    def _ask_which_topic(self, dispatcher: CollectingDispatcher, area: str | None) -> list[dict[str, Any]]:
        """A bare area with no topic to carry over: ask what they want to know."""
        label = self._kb.areas[area].label.lower() if area is not None and area in self._kb.areas else "treatment area"
        text = self._kb.messages.area_prompt.replace("{area}", label)
        dispatcher.utter_message(text=self._kb.render(text), buttons=topic_buttons(self._kb, AREA_FOLLOW_UP_TOPICS))
        return [outcome(c.OUTCOME_FALLBACK)]
