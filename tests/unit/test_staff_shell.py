"""The staff view's decision line, from trackers built in memory."""

from __future__ import annotations

from typing import Any

from mesoguide.knowledge import KnowledgeBase
from mesoguide.staff_shell import decision_from_tracker, format_decision, reply_lines


def tracker(parse: dict[str, Any], outcome: str | None, slots: dict[str, Any] | None = None) -> dict[str, Any]:
    events: list[dict[str, Any]] = [
        {"event": "slot", "name": "turn_outcome", "value": "answer:old"},
        {"event": "user", "text": parse.get("text"), "parse_data": parse},
        {"event": "action", "name": "action_x"},
    ]
    if outcome:
        events.append({"event": "slot", "name": "turn_outcome", "value": outcome})
    return {"events": events, "slots": slots or {}}


def test_answer_with_area_variant(kb: KnowledgeBase) -> None:
    parse = {
        "text": "How many sessions for hair?",
        "intent": {"name": "ask_sessions", "confidence": 0.934},
        "entities": [{"entity": "treatment_area", "value": "scalp"}],
        "guardrail": {"matches": [], "predicted_intent": "ask_sessions", "routed": False},
    }
    line = format_decision(decision_from_tracker(tracker(parse, "answer:sessions", {"treatment_area": "scalp"}), kb))
    assert line == (
        "▸ intent ask_sessions 0.93 | guardrail: - | entities: treatment_area=scalp | outcome answer:sessions"
        " | knowledge: knowledge/topics/sessions.yml#variants.scalp"
    )


def test_routed_escalation_names_terms_and_vocabulary(kb: KnowledgeBase) -> None:
    parse = {
        "text": "on warfarin, downtime?",
        "intent": {"name": "ask_contraindication", "confidence": 1.0},
        "entities": [{"entity": "contraindication", "value": "anticoagulants"}],
        "guardrail": {
            "matches": [{"entity": "contraindication", "value": "anticoagulants", "text": "warfarin"}],
            "predicted_intent": "ask_downtime",
            "routed": True,
        },
    }
    line = format_decision(decision_from_tracker(tracker(parse, "escalate:contraindication"), kb))
    assert "intent ask_contraindication 1.00 (classifier said ask_downtime; routed by the guardrail)" in line
    assert 'guardrail: contraindication:anticoagulants ("warfarin")' in line
    assert "knowledge: knowledge/messages.yml#escalation.contraindication, vocabulary contraindication:anticoagulants" in line


def test_turn_without_outcome_and_area_prompt(kb: KnowledgeBase) -> None:
    assert "outcome - | knowledge: -" in format_decision(decision_from_tracker(tracker({"intent": {}}, None), kb))
    parse = {"intent": {"name": "inform_area", "confidence": 0.8}}
    assert "knowledge/messages.yml#area_prompt" in format_decision(decision_from_tracker(tracker(parse, "fallback"), kb))


def test_buttons_numbered_across_the_turn() -> None:
    replies = [
        {"text": "A", "buttons": [{"title": "One", "payload": "/a"}]},
        {"text": "B", "buttons": [{"title": "Two", "payload": "/b"}]},
    ]
    assert reply_lines(replies) == ["Bot: A", "  [1] One", "Bot: B", "  [2] Two"]
