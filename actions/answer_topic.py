"""``action_answer_topic``: the curated answer of a topic, for the patient's area if known.

The topic comes from the FAQ intent (``ask_sessions``) or, for a follow-up that only names an area
("hair" after the sessions answer, "and for the face?"), from the topic answered last; a first
message that only names an area gets the topic the classifier saw in it ("hair" -> hair loss).
When a follow-up names an area the topic has no separate answer for, one sentence says so before
the general answer. A question about one aspect of a treatment ("how many sessions for a double
chin?") gets the aspect's answer, the treatment's topic as the first button
(:mod:`mesoguide.knowledge.aspects`). Before answering, the message is checked again for anything that must be
escalated (:class:`actions.guarded.GuardedAction`).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation_context import ConversationContext, read_context
from actions.guarded import GuardedAction
from actions.replies import outcome, topic_buttons
from mesoguide import constants as c
from mesoguide.knowledge import KnowledgeBase
from mesoguide.knowledge.topics import answer_outcome, topic_for_intent

# Offered when the patient names an area but we do not know which topic they mean.
AREA_FOLLOW_UP_TOPICS = ("sessions", "results_timing", "downtime", "side_effects")


def topic_to_answer(context: ConversationContext, kb: KnowledgeBase) -> tuple[str | None, bool]:
    """The topic the latest message asks about, and whether it was carried over from the last
    answer (a follow-up that only named an area)."""
    topic_id = topic_for_intent(context.intent, kb.topics)
    carried = False
    if topic_id is None and context.intent == c.INTENT_INFORM_AREA:
        carried = context.current_topic in kb.topics
        topic_id = context.current_topic if carried else topic_for_intent(context.predicted_intent, kb.topics)
    return (topic_id if topic_id in kb.topics else None), carried


def answer_with(
    dispatcher: CollectingDispatcher,
    kb: KnowledgeBase,
    topic_id: str,
    context: ConversationContext,
    *,
    carried: bool = False,
    first_buttons: tuple[str, ...] = (),
) -> list[dict[str, Any]]:
    """Send ``topic_id``'s answer (for the area in play) with its related topics as buttons.

    Args:
        carried: The topic was carried over from the last answer (the message named an area).
        first_buttons: Topics offered before the related ones (another topic the message may
            have meant).
    """
    topic = kb.topics[topic_id]
    text, used_area = topic.text_for(context.area)
    named = context.area_named_now
    if carried and named is not None and used_area != named and named in kb.areas:
        # "and for cellulite?" after the downtime answer: say this answer is not cellulite's.
        label = kb.areas[named].label.lower()
        text = kb.messages.area_not_covered.replace("{area}", label) + " " + text
    offered = [*first_buttons, *(t for t in topic.related if t not in first_buttons)]
    dispatcher.utter_message(text=kb.render(text), buttons=topic_buttons(kb, offered))
    return [outcome(answer_outcome(topic.id)), SlotSet(c.SLOT_CURRENT_TOPIC, topic.id)]


class ActionAnswerTopic(GuardedAction, Action):
    """Answers an education question from ``knowledge/topics``.

    Constructed with ``Injected``'s keyword arguments (knowledge, matcher, store).
    """

    def name(self) -> str:
        return c.ACTION_ANSWER_TOPIC

    async def answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        context = read_context(tracker, self._matcher)
        topic_id, carried = topic_to_answer(context, self._kb)
        if topic_id is None:
            return self._ask_which_topic(dispatcher, context.area)

        aspect = None if carried else self._kb.aspects.aspect_asked(topic_id, str(tracker.latest_message.get("text") or ""))
        if aspect is not None:
            # "how many sessions for a double chin?": the sessions answer, fat reduction offered first.
            return answer_with(dispatcher, self._kb, aspect, context, first_buttons=(topic_id,))
        return answer_with(dispatcher, self._kb, topic_id, context, carried=carried)

    def _ask_which_topic(self, dispatcher: CollectingDispatcher, area: str | None) -> list[dict[str, Any]]:
        """A bare area with no topic to carry over: ask what they want to know."""
        label = self._kb.areas[area].label.lower() if area is not None and area in self._kb.areas else "treatment area"
        text = self._kb.messages.area_prompt.replace("{area}", label)
        dispatcher.utter_message(text=self._kb.render(text), buttons=topic_buttons(self._kb, AREA_FOLLOW_UP_TOPICS))
        return [outcome(c.OUTCOME_FALLBACK)]
