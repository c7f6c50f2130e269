"""The actions' replies to patients who write another language, on in-memory trackers with the
real domain, knowledge base and a real (temp SQLite) escalation store."""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.escalate import ActionEscalate
from actions.offer_help import ActionOfferHelp
from mesoguide import constants as c
from mesoguide.escalations.store import EscalationStore
from mesoguide.knowledge import KnowledgeBase
from mesoguide.language.replies import render_in
from mesoguide.reply_meta import meta_of


def tracker(text: str, intent: str, language: dict[str, Any] | None) -> Tracker:
    latest: dict[str, Any] = {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": []}
    if language is not None:
        latest[c.PARSE_KEY_LANGUAGE] = language
        latest[c.PARSE_KEY_GUARDRAIL] = {"matches": [], "predicted_intent": "ask_contraindication", "ranking": [
            ["ask_contraindication", 0.6], ["ask_pain", 0.4]]}
    return Tracker(
        sender_id="patient-tr", slots={}, latest_message=latest,
        events=[{"event": "user", "text": text, "parse_data": latest, "input_channel": "rest"}],
        paused=False, followup_action=None, active_loop={}, latest_action_name="action_listen",
    )


def run(action: Action, t: Tracker, domain: dict) -> tuple[list[dict], list[dict]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, t, domain))
    return dispatcher.messages, events


def outcome(events: list[dict]) -> str:
    return [e["value"] for e in events if e.get("name") == c.SLOT_TURN_OUTCOME][-1]


TURKISH = {"code": "tr", "reason": "detector", "red_flags": [], "reply_languages": ["tr"], "english_too": False}


def test_a_question_in_turkish_gets_the_turkish_safe_reply_and_no_english_guess(kb: KnowledgeBase, matcher, domain) -> None:
    """The English classifier's guess (a contraindication here) about Turkish words is noise."""
    action = ActionOfferHelp(knowledge=kb, matcher=matcher)
    [message], events = run(action, tracker("Mezoterapi kaç seans sürüyor acaba?", c.INTENT_OUT_OF_SCOPE, TURKISH), domain)
    assert message["text"] == render_in(kb, "tr", kb.languages["tr"].english_only)
    assert not message["buttons"], "no English topic buttons"
    assert meta_of(message) == {"outcome": "fallback", "urgent": False, "reference": None, "language": "tr"}
    assert outcome(events) == c.OUTCOME_FALLBACK


def test_a_turkish_red_flag_is_urgent_in_turkish_and_stored_with_its_language(
    kb: KnowledgeBase, matcher, domain, sqlite_store: EscalationStore
) -> None:
    record = {**TURKISH, "red_flags": ["tr:breathing_difficulty"]}
    action = ActionEscalate(knowledge=kb, matcher=matcher, store=sqlite_store)
    [message], events = run(action, tracker("dün meso yaptırdım nefes alamıyorum", c.INTENT_RED_FLAG, record), domain)
    pack = kb.languages["tr"]
    meta = meta_of(message)
    assert message["text"].startswith(render_in(kb, "tr", pack.red_flag))
    assert render_in(kb, "tr", pack.reference_line, reference=meta["reference"]) in message["text"]
    assert kb.render(kb.messages.escalation["red_flag"]) not in message["text"], "read as Turkish: Turkish only"
    assert meta["urgent"] and meta["language"] == "tr" and not message["buttons"]
    stored = sqlite_store.get(meta["reference"])
    assert stored["urgent"] and "language:tr" in stored["terms"] and "red_flag:breathing_difficulty" in stored["terms"]
    assert outcome(events) == "escalate:red_flag"


def test_without_a_recorded_verdict_the_action_finds_the_red_flag_itself(
    kb: KnowledgeBase, matcher, domain, sqlite_store: EscalationStore
) -> None:
    """A crafted payload or an older model records no language: the re-check still escalates,
    in Turkish and in English."""
    action = ActionOfferHelp(knowledge=kb, matcher=matcher, store=sqlite_store)
    [message], events = run(action, tracker("nefes alamıyorum", c.INTENT_OUT_OF_SCOPE, None), domain)
    assert outcome(events) == "escalate:red_flag"
    assert message["text"].startswith(render_in(kb, "tr", kb.languages["tr"].red_flag))
    assert kb.render(kb.messages.escalation["red_flag"]) in message["text"]


def test_an_english_red_flag_is_answered_in_english_only(kb: KnowledgeBase, matcher, domain, sqlite_store) -> None:
    action = ActionEscalate(knowledge=kb, matcher=matcher, store=sqlite_store)
    [message], _ = run(action, tracker("my cheek is leaking pus", c.INTENT_RED_FLAG, None), domain)
    assert message["text"].startswith(kb.render(kb.messages.escalation["red_flag"]))
    assert meta_of(message)["language"] == "en"
