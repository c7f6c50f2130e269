"""An unclear message: two tied topics get the first one's answer with the other offered; any
other unclear message gets the topics the classifier ranked first as its first buttons."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import likely_topics as lt
from actions.offer_help import HELP_TOPICS, ActionOfferHelp
from mesoguide import constants as c
from mesoguide.guardrail.matcher import GuardrailMatcher
from mesoguide.knowledge import KnowledgeBase
from mesoguide.paths import REPO_ROOT


def unclear(text: str, ranked: list[tuple[str, float]]) -> Tracker:
    """A message the FallbackClassifier turned into nlu_fallback, with the router's ranking."""
    latest = {
        "text": text,
        "intent": {"name": c.INTENT_NLU_FALLBACK, "confidence": 0.3},
        "entities": [],
        c.PARSE_KEY_GUARDRAIL: {
            "matches": [], "predicted_intent": ranked[0][0], "ranking": [list(p) for p in ranked], "has_content": True,
        },
    }
    return Tracker("test", {}, latest, [{"event": "user", "text": text, "parse_data": latest}], False, None, {}, "action_listen")


def reply(kb: KnowledgeBase, matcher: GuardrailMatcher, tracker: Tracker) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionOfferHelp(knowledge=kb, matcher=matcher).run(dispatcher, tracker, {}))
    [message] = dispatcher.messages
    return message, events


def outcome_of(events: list[dict[str, Any]]) -> str:
    return [e["value"] for e in events if e.get("name") == c.SLOT_TURN_OUTCOME][-1]


def test_the_thresholds_are_the_fallback_classifiers() -> None:
    pipeline = yaml.safe_load(Path(REPO_ROOT / "config.yml").read_text(encoding="utf-8"))["pipeline"]
    [fallback] = [step for step in pipeline if step["name"] == "FallbackClassifier"]
    assert (fallback["threshold"], fallback["ambiguity_threshold"]) == (lt.FALLBACK_THRESHOLD, lt.TIE_MARGIN)


def test_two_tied_topics_get_the_first_answer_and_the_other_offered_first(kb: KnowledgeBase, matcher: GuardrailMatcher) -> None:
    tracker = unclear("is the downtime and the pain bad", [("ask_downtime", 0.41), ("ask_pain", 0.38), ("ask_aftercare", 0.1)])
    message, events = reply(kb, matcher, tracker)
    assert outcome_of(events) == "answer:downtime"
    assert message["text"] == kb.render(kb.topics["downtime"].answer)
    assert message["buttons"][0] == {"title": kb.topics["pain"].title, "payload": "/ask_pain"}
    payloads = [b["payload"] for b in message["buttons"]]
    assert len(payloads) == len(set(payloads)), "no topic offered twice"


@pytest.mark.parametrize(
    ("ranked", "why"),
    [
        ([("ask_downtime", 0.29), ("ask_pain", 0.28)], "below the fallback threshold"),
        ([("ask_downtime", 0.45), ("ask_pain", 0.39)], "not within the margin (the classifier did not fall back on ambiguity)"),
        ([("out_of_scope", 0.40), ("ask_downtime", 0.38)], "out of scope first"),
        ([("greet", 0.40), ("ask_downtime", 0.38)], "smalltalk first"),
    ],
)
def test_no_tie_no_guess(kb: KnowledgeBase, matcher: GuardrailMatcher, ranked: list[tuple[str, float]], why: str) -> None:
    message, events = reply(kb, matcher, unclear("hmm about the thing after", ranked))
    assert outcome_of(events) == c.OUTCOME_FALLBACK, why
    assert message["text"] == kb.render(kb.messages.fallback)


def test_an_unclear_question_gets_its_likeliest_topics_first(kb: KnowledgeBase, matcher: GuardrailMatcher) -> None:
    ranked = [("ask_stretch_marks", 0.22), ("out_of_scope", 0.2), ("ask_pain", 0.15), ("ask_cost", 0.12), ("ask_history", 0.05)]
    message, events = reply(kb, matcher, unclear("that thing on my legs, worth it?", ranked))
    assert outcome_of(events) == c.OUTCOME_FALLBACK
    payloads = [b["payload"] for b in message["buttons"]]
    assert payloads[:3] == ["/ask_stretch_marks", "/ask_pain", "/ask_cost"]
    assert "/ask_history" not in payloads, "below the floor"
    assert payloads[3:-1] == [f"/ask_{t}" for t in HELP_TOPICS if t not in ("pain", "cost")]
    assert payloads[-1] == f"/{c.INTENT_HUMAN}"


def test_a_tie_never_answers_what_must_be_escalated(kb: KnowledgeBase, matcher: GuardrailMatcher) -> None:
    tracker = unclear("I'm on warfarin, is the downtime or the pain worse", [("ask_downtime", 0.41), ("ask_pain", 0.38)])
    assert outcome_of(reply(kb, matcher, tracker)[1]) == "escalate:contraindication"
    # The classifier's own escalation intent ranked first: never a topic's answer.
    tracker = unclear("is it ok for me, downtime wise", [("ask_contraindication", 0.40), ("ask_downtime", 0.38)])
    assert not outcome_of(reply(kb, matcher, tracker)[1]).startswith(c.ANSWER_PREFIX)


def test_a_message_without_content_gets_the_usual_topics(kb: KnowledgeBase, matcher: GuardrailMatcher) -> None:
    tracker = unclear("ok", [("ask_downtime", 0.41), ("ask_pain", 0.38)])
    tracker.latest_message[c.PARSE_KEY_GUARDRAIL]["has_content"] = False
    message, events = reply(kb, matcher, tracker)
    assert outcome_of(events) == c.OUTCOME_FALLBACK and message["text"] == kb.render(kb.messages.topic_prompt)
    assert [b["payload"] for b in message["buttons"]][:-1] == [f"/ask_{t}" for t in HELP_TOPICS]
