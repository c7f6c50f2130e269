"""Every action, on trackers built in memory, with the real knowledge base and domain."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa_sdk import Action
from rasa_sdk.executor import CollectingDispatcher

from actions import callback
from actions.answer_topic import ActionAnswerTopic
from actions.escalate import ActionEscalate
from actions.offer_help import ActionOfferHelp
from actions.reply_smalltalk import ActionReplySmalltalk
from actions.session_start import ActionSessionStart
from mesoguide import constants as c
from mesoguide.escalations.codes import normalize_reference
from mesoguide.guardrail.matcher import GuardrailMatcher
from mesoguide.knowledge import KnowledgeBase
from mesoguide.reply_meta import meta_of
from tests.conftest import make_tracker


def run(action: Action, tracker, domain: dict[str, Any]) -> tuple[list[dict], list[dict]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, domain))
    return dispatcher.messages, events


def slot(events: list[dict], name: str) -> Any:
    values = [e["value"] for e in events if e.get("event") == "slot" and e.get("name") == name]
    assert values, f"no SlotSet({name}) in {events}"
    return values[-1]


@pytest.fixture(scope="module")
def actions(kb: KnowledgeBase, matcher: GuardrailMatcher) -> dict[str, Action]:
    made = [
        ActionAnswerTopic(knowledge=kb, matcher=matcher),
        ActionEscalate(knowledge=kb, matcher=matcher),
        ActionOfferHelp(knowledge=kb, matcher=matcher),
        ActionReplySmalltalk(knowledge=kb, matcher=matcher),
        ActionSessionStart(knowledge=kb),
        # the callback form's questions, validation and submit
        *(cls(knowledge=kb, matcher=matcher) for cls in callback.ASK_ACTIONS),
        callback.ValidateCallbackForm(knowledge=kb, matcher=matcher),
        callback.ActionSubmitCallback(knowledge=kb, matcher=matcher),
    ]
    return {a.name(): a for a in made}


def test_every_domain_action_has_a_class(actions: dict[str, Action], domain: dict) -> None:
    assert set(domain["actions"]) == set(actions)


# --- answers ------------------------------------------------------------------------------


def test_answers_a_topic_and_records_the_outcome(actions, domain, kb) -> None:
    messages, events = run(actions[c.ACTION_ANSWER_TOPIC], make_tracker("does it hurt", "ask_pain"), domain)
    assert messages[0]["text"] == kb.render(kb.topics["pain"].answer)
    assert slot(events, c.SLOT_TURN_OUTCOME) == "answer:pain"
    assert slot(events, c.SLOT_CURRENT_TOPIC) == "pain"
    assert messages[0]["buttons"], "related topics are offered as quick replies"
    assert all(b["payload"].startswith("/ask_") for b in messages[0]["buttons"])


def test_answers_with_the_area_variant(actions, domain, kb) -> None:
    tracker = make_tracker("how many sessions for hair", "ask_sessions", slots={c.SLOT_TREATMENT_AREA: "scalp"})
    messages, events = run(actions[c.ACTION_ANSWER_TOPIC], tracker, domain)
    assert messages[0]["text"] == kb.render(kb.topics["sessions"].variants["scalp"])
    assert slot(events, c.SLOT_TURN_OUTCOME) == "answer:sessions"


def test_area_follow_up_reuses_the_last_topic(actions, domain, kb) -> None:
    tracker = make_tracker(
        "and for the face?", c.INTENT_INFORM_AREA,
        slots={c.SLOT_TREATMENT_AREA: "face", c.SLOT_CURRENT_TOPIC: "sessions"},
    )
    messages, events = run(actions[c.ACTION_ANSWER_TOPIC], tracker, domain)
    assert messages[0]["text"] == kb.render(kb.topics["sessions"].variants["face"])
    assert slot(events, c.SLOT_TURN_OUTCOME) == "answer:sessions"


def test_area_without_a_topic_asks_what_they_want(actions, domain) -> None:
    tracker = make_tracker("what about hair", c.INTENT_INFORM_AREA, slots={c.SLOT_TREATMENT_AREA: "scalp"})
    messages, events = run(actions[c.ACTION_ANSWER_TOPIC], tracker, domain)
    assert "scalp and hair" in messages[0]["text"]
    assert messages[0]["buttons"]
    assert slot(events, c.SLOT_TURN_OUTCOME) == c.OUTCOME_FALLBACK


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I'm on warfarin, how long is the downtime?", "escalate:contraindication"),
        ("how long is downtime, my cheek has pus coming out", "escalate:red_flag"),
        ("/ask_downtime", None),
    ],
)
def test_answer_action_checks_the_message_again(actions, domain, text, expected) -> None:
    """Defence in depth: even if a rule routes here, a guardrail term is escalated."""
    messages, events = run(actions[c.ACTION_ANSWER_TOPIC], make_tracker(text, "ask_downtime"), domain)
    assert slot(events, c.SLOT_TURN_OUTCOME) == (expected or "answer:downtime")


# --- escalations --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("intent", "text", "outcome"),
    [
        (c.INTENT_RED_FLAG, "the lump keeps getting bigger and it's hot", "escalate:red_flag"),
        (c.INTENT_CONTRAINDICATION, "who can't have mesotherapy?", "escalate:contraindication"),
        (c.INTENT_MEDICAL_ADVICE, "which cocktail should I get", "escalate:medical_advice"),
        (c.INTENT_HUMAN, "can I talk to a real person", "escalate:human"),
    ],
)
def test_each_escalation_path(actions, domain, kb, intent, text, outcome) -> None:
    messages, events = run(actions[c.ACTION_ESCALATE], make_tracker(text, intent), domain)
    assert slot(events, c.SLOT_TURN_OUTCOME) == outcome
    reply = messages[0]["text"]
    assert kb.clinic.phone in reply
    reason = outcome.split(":")[1]
    assert reply.startswith(kb.render(kb.messages.escalation[reason]))
    if reason == "red_flag":
        assert kb.clinic.emergency_number in reply
        assert "call you back" not in reply, "nothing may delay an urgent call"
    else:
        assert "call you back" in reply, "a callback is offered"
    # Surfaces (web widget) show escalations distinctly from this payload; urgent = red flag.
    # the reference is the stored record's code, and the text tells it too.
    meta = meta_of(messages[0])
    assert meta == {"outcome": outcome, "urgent": reason == "red_flag", "reference": meta["reference"], "language": "en"}
    assert normalize_reference(meta["reference"]) == meta["reference"]
    assert f"Your reference code is {meta['reference']}." in reply


def test_escalation_takes_the_highest_precedence(actions, domain) -> None:
    tracker = make_tracker("I'm pregnant and can I talk to someone", c.INTENT_HUMAN)
    _, events = run(actions[c.ACTION_ESCALATE], tracker, domain)
    assert slot(events, c.SLOT_TURN_OUTCOME) == "escalate:contraindication"


def test_escalation_without_a_reason_goes_to_a_person(actions, domain) -> None:
    _, events = run(actions[c.ACTION_ESCALATE], make_tracker("hello", "greet"), domain)
    assert slot(events, c.SLOT_TURN_OUTCOME) == "escalate:human"


def test_contraindication_reply_gives_no_verdict(actions, domain) -> None:
    messages, _ = run(
        actions[c.ACTION_ESCALATE], make_tracker("I'm on Xarelto, can I have it?", c.INTENT_CONTRAINDICATION), domain
    )
    text = messages[0]["text"].lower()
    for verdict in ("yes, you can", "you can have", "it is safe", "it's safe", "not safe for you", "you can't have"):
        assert verdict not in text


# --- fallback, smalltalk, session start ---------------------------------------------------


def test_fallback_offers_topics_and_the_clinic(actions, domain, kb) -> None:
    messages, events = run(actions[c.ACTION_OFFER_HELP], make_tracker("asdf qwer", c.INTENT_NLU_FALLBACK), domain)
    assert slot(events, c.SLOT_TURN_OUTCOME) == c.OUTCOME_FALLBACK
    assert kb.clinic.phone in messages[0]["text"]
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert "/ask_pain" in payloads and f"/{c.INTENT_HUMAN}" in payloads


def test_fallback_still_escalates_a_guardrail_term(actions, domain) -> None:
    _, events = run(actions[c.ACTION_OFFER_HELP], make_tracker("pregnent??", c.INTENT_NLU_FALLBACK), domain)
    assert slot(events, c.SLOT_TURN_OUTCOME) == "escalate:contraindication"


@pytest.mark.parametrize("intent", c.SMALLTALK_INTENTS)
def test_smalltalk(actions, domain, kb, intent) -> None:
    messages, events = run(actions[c.ACTION_REPLY_SMALLTALK], make_tracker("hi", intent), domain)
    assert messages[0]["text"] == kb.render(kb.messages.smalltalk[intent])
    assert slot(events, c.SLOT_TURN_OUTCOME) == f"smalltalk:{intent}"


def test_smalltalk_with_a_contraindication_escalates(actions, domain) -> None:
    _, events = run(actions[c.ACTION_REPLY_SMALLTALK], make_tracker("hi! I'm breastfeeding", "greet"), domain)
    assert slot(events, c.SLOT_TURN_OUTCOME) == "escalate:contraindication"


def test_session_starts_with_the_disclaimer(actions, domain, kb) -> None:
    messages, events = run(actions["action_session_start"], make_tracker("", "greet"), domain)
    assert messages[0]["text"] == kb.render(kb.messages.disclaimer)
    assert [e["event"] for e in events] == ["session_started", "action"]
