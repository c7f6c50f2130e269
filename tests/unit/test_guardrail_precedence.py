"""Precedence (red flag > contraindication > medical advice > human > answer) and the one decision."""

from __future__ import annotations

import pytest

from mesoguide import constants as c
from mesoguide.guardrail.precedence import Escalation, Evidence, decide, decide_escalation
from mesoguide.knowledge.topics import answer_outcome, topic_for_intent

SHARE = 0.12


def test_precedence_order() -> None:
    ranks = [e.rank for e in (Escalation.RED_FLAG, Escalation.CONTRAINDICATION, Escalation.MEDICAL_ADVICE, Escalation.HUMAN)]
    assert ranks == sorted(ranks, reverse=True)


@pytest.mark.parametrize(
    ("intent", "entities", "expected"),
    [
        ("ask_downtime", [], None),
        ("ask_downtime", [c.ENTITY_TREATMENT_AREA], None),
        ("ask_downtime", [c.ENTITY_CONTRAINDICATION], Escalation.CONTRAINDICATION),
        (c.INTENT_HUMAN, [c.ENTITY_CONTRAINDICATION], Escalation.CONTRAINDICATION),
        (c.INTENT_MEDICAL_ADVICE, [], Escalation.MEDICAL_ADVICE),
        ("ask_pigmentation", [c.ENTITY_MEDICAL_ADVICE], Escalation.MEDICAL_ADVICE),
        (c.INTENT_MEDICAL_ADVICE, [c.ENTITY_CONTRAINDICATION], Escalation.CONTRAINDICATION),
        (c.INTENT_HUMAN, [c.ENTITY_MEDICAL_ADVICE], Escalation.MEDICAL_ADVICE),
        (c.INTENT_CONTRAINDICATION, [c.ENTITY_RED_FLAG], Escalation.RED_FLAG),
        (c.INTENT_RED_FLAG, [c.ENTITY_CONTRAINDICATION], Escalation.RED_FLAG),
        (c.INTENT_NLU_FALLBACK, [c.ENTITY_RED_FLAG, c.ENTITY_CONTRAINDICATION], Escalation.RED_FLAG),
        ("greet", [], None),
        (None, [], None),
    ],
)
def test_decide_escalation(intent, entities, expected) -> None:
    assert decide_escalation(intent, entities) is expected


def test_outcome_strings() -> None:
    assert Escalation.RED_FLAG.outcome == "escalate:red_flag"
    assert Escalation.HUMAN.outcome == "escalate:human"
    assert answer_outcome("sessions") == "answer:sessions"


def test_topic_for_intent_only_knows_topics() -> None:
    topics = {"sessions", "pain"}
    assert topic_for_intent("ask_sessions", topics) == "sessions"
    assert topic_for_intent("ask_contraindication", topics) is None
    assert topic_for_intent("ask_is_bot", topics) is None
    assert topic_for_intent("greet", topics) is None


@pytest.mark.parametrize(
    ("predicted", "ranking", "entities", "expected"),
    [
        ("ask_downtime", [("ask_downtime", 0.9)], [], None),
        ("ask_downtime", [("ask_downtime", 0.9)], [c.ENTITY_CONTRAINDICATION], Escalation.CONTRAINDICATION),
        # unsure, best guess an escalation (a person included): escalate
        (c.INTENT_NLU_FALLBACK, [(c.INTENT_MEDICAL_ADVICE, 0.2), ("ask_pain", 0.1)], [], Escalation.MEDICAL_ADVICE),
        (c.INTENT_NLU_FALLBACK, [(c.INTENT_HUMAN, 0.2)], [], Escalation.HUMAN),
        # unsure, best guess a topic: may fall back
        (c.INTENT_NLU_FALLBACK, [("ask_pain", 0.2), (c.INTENT_MEDICAL_ADVICE, 0.1)], [], None),
        # the safety net: escalation intents together >= the share -> the likeliest of them
        ("ask_pain", [("ask_pain", 0.8), (c.INTENT_RED_FLAG, 0.07), (c.INTENT_CONTRAINDICATION, 0.06)], [], Escalation.RED_FLAG),
        ("ask_pain", [("ask_pain", 0.89), (c.INTENT_MEDICAL_ADVICE, 0.11)], [], None),
        # a request for a person is not a safety question: its share does not count
        ("ask_pain", [("ask_pain", 0.8), (c.INTENT_HUMAN, 0.15)], [], None),
        # an escalation the classifier predicted is its answer; matches of higher rank still win
        (c.INTENT_HUMAN, [(c.INTENT_HUMAN, 0.8), (c.INTENT_CONTRAINDICATION, 0.15)], [], Escalation.HUMAN),
        (c.INTENT_HUMAN, [(c.INTENT_HUMAN, 0.8)], [c.ENTITY_RED_FLAG], Escalation.RED_FLAG),
    ],
)
def test_decide_outside_the_form(predicted, ranking, entities, expected) -> None:
    assert decide(Evidence(predicted, ranking, entities), escalation_share=SHARE) is expected


@pytest.mark.parametrize(
    ("predicted", "ranking", "entities", "expected"),
    [
        # a name or a phone number the classifier half-recognises never ends the form ...
        (c.INTENT_NLU_FALLBACK, [(c.INTENT_CONTRAINDICATION, 0.2)], [], None),
        ("request_callback", [("request_callback", 0.6), (c.INTENT_MEDICAL_ADVICE, 0.3)], [], None),
        # ... nor does a request for a person: that is what the form is arranging
        (c.INTENT_HUMAN, [(c.INTENT_HUMAN, 0.9)], [], None),
        # vocabulary matches and predicted escalations do
        ("request_callback", [("request_callback", 0.9)], [c.ENTITY_CONTRAINDICATION], Escalation.CONTRAINDICATION),
        (c.INTENT_MEDICAL_ADVICE, [(c.INTENT_MEDICAL_ADVICE, 0.9)], [], Escalation.MEDICAL_ADVICE),
        # and a red flag however the classifier reached it
        (c.INTENT_NLU_FALLBACK, [(c.INTENT_RED_FLAG, 0.25)], [], Escalation.RED_FLAG),
        ("request_callback", [("request_callback", 0.8), (c.INTENT_RED_FLAG, 0.15)], [], Escalation.RED_FLAG),
    ],
)
def test_decide_in_the_callback_form(predicted, ranking, entities, expected) -> None:
    assert decide(Evidence(predicted, ranking, entities), escalation_share=SHARE, in_form=True) is expected


def test_one_alarming_sentence_of_a_story_escalates_it() -> None:
    ranking = [("ask_results_duration", 0.85), (c.INTENT_RED_FLAG, 0.05)]
    sentences = [("ask_results_duration", 0.8), (c.INTENT_RED_FLAG, 0.97), ("thank", 0.9)]
    evidence = Evidence("ask_results_duration", ranking, sentence_intents=sentences)
    assert decide(evidence, escalation_share=SHARE) is Escalation.RED_FLAG


def test_a_sentence_the_whole_message_does_not_support_does_not() -> None:
    ranking = [("ask_aftercare", 0.99), (c.INTENT_RED_FLAG, 0.001)]
    sentences = [(c.INTENT_RED_FLAG, 0.99), ("ask_aftercare", 0.99)]
    assert decide(Evidence("ask_aftercare", ranking, sentence_intents=sentences), escalation_share=SHARE) is None
