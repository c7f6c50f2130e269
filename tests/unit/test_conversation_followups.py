"""Short follow-ups keep what they do not change; messages without content never escalate."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa.shared.nlu.training_data.message import Message
from rasa_sdk import Action
from rasa_sdk.executor import CollectingDispatcher

from actions.answer_topic import ActionAnswerTopic
from actions.escalate import ActionEscalate
from actions.offer_help import ActionOfferHelp
from mesoguide import constants as c
from mesoguide.guardrail.content import has_content
from mesoguide.guardrail.matcher import GuardrailMatcher
from mesoguide.guardrail.rasa_router import GuardrailRouter
from mesoguide.knowledge import KnowledgeBase
from tests.conftest import make_tracker


def run(action: Action, tracker, domain: dict[str, Any]) -> tuple[list[dict], dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, domain))
    return dispatcher.messages, {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def area(value: str, text: str) -> list[dict[str, Any]]:
    return [{"entity": c.ENTITY_TREATMENT_AREA, "value": value, "text": text}]


@pytest.fixture(scope="module")
def answer(kb: KnowledgeBase, matcher: GuardrailMatcher) -> ActionAnswerTopic:
    return ActionAnswerTopic(knowledge=kb, matcher=matcher)


# --- what has content ---------------------------------------------------------------------


@pytest.mark.parametrize("text", ["yes", "ok", "Yes please", "?", "👍", "hmm...", "for my face", "and for cellulite?",
                                  "what about the thighs", "hair", "ok and for my tummy then?"])
def test_messages_without_content_of_their_own(matcher: GuardrailMatcher, text: str) -> None:
    assert not has_content(text, matcher.match(text))


@pytest.mark.parametrize("text", ["does it hurt", "what about downtime", "and how long does that last?", "pregnant?",
                                  "yes I take warfarin", "for my acne", "2"])
def test_messages_with_content(matcher: GuardrailMatcher, text: str) -> None:
    assert has_content(text, matcher.match(text))


# --- the router ---------------------------------------------------------------------------


def route(matcher: GuardrailMatcher, text: str, intent: str, confidence: float = 0.9) -> Message:
    message = Message(data={"text": text, "intent": {"name": intent, "confidence": confidence},
                            "intent_ranking": [{"name": intent, "confidence": confidence}]})
    GuardrailRouter(matcher=matcher)._route(message, matcher.match(text))
    return message


def test_an_area_on_its_own_is_a_follow_up_whatever_the_classifier_guessed(matcher: GuardrailMatcher) -> None:
    message = route(matcher, "for my face", c.INTENT_MEDICAL_ADVICE)
    assert message.get("intent")["name"] == c.INTENT_INFORM_AREA
    assert message.get(c.PARSE_KEY_GUARDRAIL)["has_content"] is False


def test_a_bare_yes_is_never_lifted_to_an_escalation(matcher: GuardrailMatcher) -> None:
    assert route(matcher, "yes", c.INTENT_CONTRAINDICATION).get("intent")["name"] == c.INTENT_OUT_OF_SCOPE
    assert route(matcher, "ok", c.INTENT_NLU_FALLBACK, 0.2).get("intent")["name"] == c.INTENT_NLU_FALLBACK


GO_ON = ["tell me more", "tell me more pls", "why?", "why do i need one", "what does that mean", "go on"]
FOLLOW_UPS_WITH_TERMS = ["why? my cheek is leaking pus", "tell me more, I'm pregnant", "why does it matter if i take warfarin"]


@pytest.mark.parametrize("text", GO_ON)
def test_asking_to_go_on_follows_the_last_answer_whatever_the_classifier_guessed(matcher: GuardrailMatcher, text: str) -> None:
    for guess in (c.INTENT_MEDICAL_ADVICE, c.INTENT_CONTRAINDICATION, "ask_pain"):
        assert route(matcher, text, guess).get("intent")["name"] == c.INTENT_INFORM_AREA, (text, guess)


@pytest.mark.parametrize("text", ["no thats ok", "no thanks", "nah im good", "No, that's fine"])
def test_turning_an_offer_down_is_not_a_yes(matcher: GuardrailMatcher, text: str) -> None:
    assert route(matcher, text, c.INTENT_AFFIRM).get("intent")["name"] == c.INTENT_THANK
    assert route(matcher, "ok", c.INTENT_AFFIRM).get("intent")["name"] == c.INTENT_AFFIRM, "a yes stays a yes"


@pytest.mark.parametrize("text", FOLLOW_UPS_WITH_TERMS)
def test_a_follow_up_with_a_vocabulary_term_still_escalates(matcher: GuardrailMatcher, text: str) -> None:
    assert route(matcher, text, c.INTENT_AFFIRM).get("intent")["name"] in (c.INTENT_RED_FLAG, c.INTENT_CONTRAINDICATION)


@pytest.mark.parametrize(("text", "expected"), [("pregnant?", c.INTENT_CONTRAINDICATION), ("yes, pus", c.INTENT_RED_FLAG)])
def test_vocabulary_terms_still_escalate_the_shortest_message(matcher: GuardrailMatcher, text: str, expected: str) -> None:
    assert route(matcher, text, c.INTENT_AFFIRM).get("intent")["name"] == expected


# --- answers that follow the conversation ---------------------------------------------------


def test_hair_after_the_sessions_answer_gives_the_scalp_variant(answer, kb, domain) -> None:
    tracker = make_tracker("hair", c.INTENT_INFORM_AREA, entities=area("scalp", "hair"),
                           slots={c.SLOT_CURRENT_TOPIC: "sessions", c.SLOT_TREATMENT_AREA: "scalp"})
    [message], slots = run(answer, tracker, domain)
    assert message["text"] == kb.render(kb.topics["sessions"].variants["scalp"])
    assert slots[c.SLOT_TURN_OUTCOME] == "answer:sessions"


def test_an_area_with_no_variant_says_so_before_the_general_answer(answer, kb, domain) -> None:
    tracker = make_tracker("and for cellulite?", c.INTENT_INFORM_AREA, entities=area("cellulite", "cellulite"),
                           slots={c.SLOT_CURRENT_TOPIC: "downtime", c.SLOT_TREATMENT_AREA: "cellulite"})
    [message], slots = run(answer, tracker, domain)
    label = kb.areas["cellulite"].label.lower()
    assert message["text"].startswith(kb.render(kb.messages.area_not_covered.replace("{area}", label)))
    assert message["text"].endswith(kb.render(kb.topics["downtime"].answer))
    assert slots[c.SLOT_TURN_OUTCOME] == "answer:downtime"


def test_an_area_remembered_from_earlier_adds_no_sentence(answer, kb, domain) -> None:
    tracker = make_tracker("how much does it cost", "ask_cost", slots={c.SLOT_TREATMENT_AREA: "scalp"})
    [message], _ = run(answer, tracker, domain)
    assert message["text"] == kb.render(kb.topics["cost"].text_for("scalp")[0])


def test_an_area_as_the_first_message_gets_the_topic_the_classifier_saw(answer, domain) -> None:
    latest = make_tracker("hair", c.INTENT_INFORM_AREA, entities=area("scalp", "hair"), slots={c.SLOT_TREATMENT_AREA: "scalp"})
    latest.latest_message[c.PARSE_KEY_GUARDRAIL] = {"predicted_intent": "ask_hair_loss", "has_content": False}
    _, slots = run(answer, latest, domain)
    assert slots[c.SLOT_TURN_OUTCOME] == "answer:hair_loss"


def test_a_bare_yes_gets_the_short_topic_prompt(kb, matcher, domain) -> None:
    [message], slots = run(ActionOfferHelp(knowledge=kb, matcher=matcher), make_tracker("yes", c.INTENT_AFFIRM), domain)
    assert message["text"] == kb.render(kb.messages.topic_prompt)
    assert message["buttons"] and slots[c.SLOT_TURN_OUTCOME] == c.OUTCOME_FALLBACK
    assert slots[c.SLOT_AWAITING] is None


def test_a_yes_routed_to_the_escalation_action_stores_nothing(kb, matcher, sqlite_store, domain) -> None:
    action = ActionEscalate(knowledge=kb, matcher=matcher, store=sqlite_store)
    [message], slots = run(action, make_tracker("ok", c.INTENT_HUMAN), domain)
    assert slots[c.SLOT_TURN_OUTCOME] == c.OUTCOME_FALLBACK
    assert sqlite_store.list() == []


@pytest.mark.parametrize(
    ("text", "intent", "expected"),
    [
        ("and for the face? btw I'm on warfarin", c.INTENT_INFORM_AREA, "escalate:contraindication"),
        ("what about cellulite, my thigh is hot and the redness is spreading", c.INTENT_INFORM_AREA, "escalate:red_flag"),
    ],
)
def test_context_never_weakens_the_re_check(answer, sqlite_store, kb, matcher, domain, text, intent, expected) -> None:
    action = ActionAnswerTopic(knowledge=kb, matcher=matcher, store=sqlite_store)
    tracker = make_tracker(text, intent, slots={c.SLOT_CURRENT_TOPIC: "downtime"})
    _, slots = run(action, tracker, domain)
    assert slots[c.SLOT_TURN_OUTCOME] == expected
