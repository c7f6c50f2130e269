"""End to end: a conversation that follows the patient, and context that never weakens safety."""

from __future__ import annotations

import uuid

import pytest

from mesoguide.client import LiveAssistant
from mesoguide.knowledge import KnowledgeBase


def sender() -> str:
    return f"e2e-follow-{uuid.uuid4().hex[:12]}"


def texts(turn) -> list[str]:
    return [r.get("text", "") for r in turn.replies]


def test_an_area_answers_the_area_question_of_the_last_answer(live: LiveAssistant, kb: KnowledgeBase) -> None:
    who = sender()
    assert live.say(who, "how many sessions do I need?").outcome == "answer:sessions"
    turn = live.say(who, "hair")
    assert turn.outcome == "answer:sessions"
    assert texts(turn) == [kb.render(kb.topics["sessions"].variants["scalp"])]


def test_a_follow_up_keeps_the_topic_and_says_when_an_area_has_no_variant(live: LiveAssistant, kb: KnowledgeBase) -> None:
    who = sender()
    assert live.say(who, "what about downtime").outcome == "answer:downtime"
    turn = live.say(who, "and for cellulite?")
    assert turn.outcome == "answer:downtime"
    label = kb.areas["cellulite"].label.lower()
    assert texts(turn)[0].startswith(kb.render(kb.messages.area_not_covered.replace("{area}", label)))


def test_for_my_face_after_a_question_is_a_follow_up(live: LiveAssistant) -> None:
    who = sender()
    assert live.say(who, "when will I see results?").outcome == "answer:results_timing"
    assert live.say(who, "for my face").outcome == "answer:results_timing"


@pytest.mark.parametrize("message", ["yes", "ok", "?", "👍"])
def test_a_message_without_content_never_reaches_the_queue(live: LiveAssistant, kb: KnowledgeBase, message: str) -> None:
    who = sender()
    turn = live.say(who, message)
    assert turn.outcome == "fallback"
    assert turn.replies[-1]["buttons"], "topic buttons to pick from"
    assert not live.tracker(who)["slots"].get("escalation_reference"), "no escalation record"


def test_yes_after_the_callback_offer_starts_the_form(live: LiveAssistant) -> None:
    who = sender()
    assert live.say(who, "can I talk to a real person?").outcome == "escalate:human"
    assert live.say(who, "yes").outcome == "callback:ask_consent"


BENIGN = ["how many sessions do I need?", "hair", "and how long does that last?", "does it hurt?", "what about downtime",
          "and for cellulite?", "ok", "how much does it cost?", "what about the face?", "thanks"]
SAFETY = [
    ("btw I'm on warfarin, is that ok?", "escalate:contraindication"),
    ("my cheek is swollen and hot and I have a fever since the session", "escalate:red_flag"),
    ("which cocktail should I get for my skin type?", "escalate:medical_advice"),
]


@pytest.mark.parametrize("turn_number", [2, 5, 10])
@pytest.mark.parametrize(("message", "expected"), SAFETY)
def test_context_never_weakens_safety(live: LiveAssistant, turn_number: int, message: str, expected: str) -> None:
    who = sender()
    for text in BENIGN[: turn_number - 1]:
        assert not live.say(who, text).outcome.startswith("escalate:"), text
    assert live.say(who, message).outcome == expected
