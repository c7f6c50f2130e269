"""Small helpers every action uses to reply: buttons, the audit slot, the message read-out."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from mesoguide.constants import SLOT_TURN_OUTCOME, TOPIC_INTENT_PREFIX
from mesoguide.knowledge import KnowledgeBase

Button = dict[str, str]


def outcome(value: str) -> SlotSet:
    """The audit-contract event: ``turn_outcome`` for this turn (docs/product.md)."""
    return SlotSet(SLOT_TURN_OUTCOME, value)


def topic_buttons(kb: KnowledgeBase, topic_ids: Iterable[str]) -> list[Button]:
    """Quick-reply buttons that ask for topics (payload ``/ask_<topic>``)."""
    return [
        {"title": kb.topics[t].title, "payload": f"/{TOPIC_INTENT_PREFIX}{t}"}
        for t in topic_ids
        if t in kb.topics
    ]


def latest_text(tracker: Tracker) -> str:
    """The text of the patient's latest message ('' if there is none)."""
    return str(tracker.latest_message.get("text") or "")


def latest_intent(tracker: Tracker) -> str | None:
    """The intent of the latest message after the guardrail's routing."""
    intent: dict[str, Any] = tracker.latest_message.get("intent") or {}
    return intent.get("name")


def latest_entity_types(tracker: Tracker) -> list[str]:
    """The entity types of the latest message."""
    return [e.get("entity", "") for e in tracker.latest_message.get("entities") or []]
