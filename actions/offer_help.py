"""``action_offer_help``: the fallback. Says what the assistant can do and how to reach people.

A message with no content of its own ("yes" with nothing offered, "ok", "?", an emoji) gets a
shorter prompt with the same topic buttons: the patient has not asked anything yet. A message the
classifier could not place between two topics gets the first one's answer with the other
offered; a message that names a technical word of the glossary ("what's phosphatidylcholine?",
``knowledge/glossary.yml``) gets the answer of the topic that explains it, the classifier's
likeliest topics offered first; any other unclear message gets the topics the classifier ranked
first as the first buttons (:mod:`actions.likely_topics`).

A message written in another language the clinic has a pack for gets that pack's safe reply
instead (``knowledge/messages.<lang>.yml``: the assistant answers in English only, the clinic's
phone and hours, the emergency number), with no English buttons. The outcome is ``fallback``;
the reply's language is in the reply meta and the message's language verdict in its parse data.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.answer_topic import answer_with
from actions.conversation_context import read_context
from actions.guarded import GuardedAction
from actions.languages import reply_languages
from actions.likely_topics import likely_topics, ranking, tied_topics
from actions.replies import outcome, topic_buttons
from mesoguide import constants as c
from mesoguide.language.replies import render_in
from mesoguide.reply_meta import ReplyMeta, custom_payload

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
        reply = reply_languages(tracker, self._foreign, self._matcher)
        pack = self._kb.languages.get(reply.first)
        if pack is not None and not reply.english:
            meta = ReplyMeta(outcome=c.OUTCOME_FALLBACK, urgent=False, reference=None, language=pack.code)
            dispatcher.utter_message(text=render_in(self._kb, pack.code, pack.english_only), custom=custom_payload(meta))
            return [outcome(c.OUTCOME_FALLBACK)]
        context = read_context(tracker, self._matcher)
        ranked = ranking(tracker) if context.has_content else []
        tie = tied_topics(ranked, self._kb.topics)
        if tie is not None:
            # Two topics fit equally: the first one's answer, the other one offered first.
            return answer_with(dispatcher, self._kb, tie[0], context, first_buttons=(tie[1],))
        likely = likely_topics(ranked, self._kb.topics)
        message = str((tracker.latest_message or {}).get("text") or "")
        named = self._kb.glossary.topics_in(message) if context.has_content else []
        if named:
            others = [t for t in (*named[1:], *likely) if t != named[0]]
            return answer_with(dispatcher, self._kb, named[0], context, first_buttons=tuple(dict.fromkeys(others))[:2])
        buttons = topic_buttons(self._kb, [*likely, *(t for t in HELP_TOPICS if t not in likely)])
        buttons.append({"title": "Talk to the clinic", "payload": f"/{c.INTENT_HUMAN}"})
        text = self._kb.messages.fallback if context.has_content else self._kb.messages.topic_prompt
        dispatcher.utter_message(text=self._kb.render(text), buttons=buttons)
        return [outcome(c.OUTCOME_FALLBACK)]
