"""The Rasa component: matches become entities, and escalations win the intent."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message

from mesoguide import constants as c
from mesoguide.guardrail.matcher import GuardrailMatcher
from mesoguide.rasa_components.guardrail_router import GUARDRAIL_KEY, GuardrailRouter


def route(matcher: GuardrailMatcher, text: str, intent: str, ranking: list[tuple[str, float]]) -> Message:
    message = Message(
        data={
            "text": text,
            "intent": {"name": intent, "confidence": ranking[0][1]},
            "intent_ranking": [{"name": n, "confidence": p} for n, p in ranking],
        }
    )
    GuardrailRouter()._route(message, matcher.match(text))
    return message


@pytest.mark.parametrize(
    ("text", "intent", "ranking", "expected"),
    [
        ("how long is downtime", "ask_downtime", [("ask_downtime", 0.9)], "ask_downtime"),
        ("I'm on warfarin, how long is downtime", "ask_downtime", [("ask_downtime", 0.9)], c.INTENT_CONTRAINDICATION),
        ("pus and I'm pregnant", c.INTENT_CONTRAINDICATION, [(c.INTENT_CONTRAINDICATION, 0.9)], c.INTENT_RED_FLAG),
        # unsure, best guess an escalation: escalate
        ("hmm what now", c.INTENT_NLU_FALLBACK, [(c.INTENT_NLU_FALLBACK, 0.3), (c.INTENT_MEDICAL_ADVICE, 0.2)], c.INTENT_MEDICAL_ADVICE),
        # unsure, best guess a topic: stay a fallback
        ("hmm what now", c.INTENT_NLU_FALLBACK, [(c.INTENT_NLU_FALLBACK, 0.3), ("ask_pain", 0.2)], c.INTENT_NLU_FALLBACK),
        # safety net: escalation intents together hold >= 0.12 of the confidence -> the likeliest one
        ("hmm what now", "ask_pain", [("ask_pain", 0.8), (c.INTENT_RED_FLAG, 0.07), (c.INTENT_CONTRAINDICATION, 0.06)], c.INTENT_RED_FLAG),
        ("hmm what now", "ask_pain", [("ask_pain", 0.9), (c.INTENT_MEDICAL_ADVICE, 0.11)], "ask_pain"),
        # a human request's share does not count: it is not a safety question
        ("hmm what now", "ask_pain", [("ask_pain", 0.8), (c.INTENT_HUMAN, 0.15)], "ask_pain"),
    ],
)
def test_routing(matcher: GuardrailMatcher, text, intent, ranking, expected) -> None:
    message = route(matcher, text, intent, ranking)
    assert message.get("intent")["name"] == expected
    assert message.get(GUARDRAIL_KEY)["predicted_intent"] == intent
    assert message.get(GUARDRAIL_KEY)["routed"] is (expected != intent)


def test_matches_become_entities_with_vocabulary_ids(matcher: GuardrailMatcher) -> None:
    message = route(matcher, "sessions for hair? I take Xarelto", "ask_sessions", [("ask_sessions", 0.9)])
    entities = {(e["entity"], e["value"], e["text"]) for e in message.get("entities")}
    assert entities == {("treatment_area", "scalp", "hair"), ("contraindication", "anticoagulant", "Xarelto")}


def test_escalation_share_is_validated() -> None:
    with pytest.raises(ValueError, match="escalation_share"):
        GuardrailRouter(escalation_share=0.0)
