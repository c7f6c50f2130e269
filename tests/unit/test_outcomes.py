"""Outcome precedence (SPEC §1): red flag > contraindication > medical advice > human > answer."""

from __future__ import annotations

import pytest

from mesoguide import constants as c
from mesoguide.outcomes import Escalation, answer_outcome, decide_escalation, topic_for_intent


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
