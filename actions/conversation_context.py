"""What the conversation says about the latest message: the topic it follows, the area it names.

A short follow-up keeps what it does not change: "and for cellulite?" after the downtime answer
asks about downtime for cellulite; "and how long does that last?" after a hair question asks about
results for the scalp. A message with no content of its own ("yes", "ok", "?") is answered as
what it is, never escalated (:mod:`mesoguide.guardrail.content`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rasa_sdk import Tracker

from mesoguide import constants as c
from mesoguide.guardrail.content import has_content
from mesoguide.guardrail.matcher import GuardrailMatcher


@dataclass(frozen=True)
class ConversationContext:
    """The latest message read against the conversation so far.

    Attributes:
        intent: The intent the dialogue acted on.
        predicted_intent: The classifier's own intent, before the guardrail routed it.
        current_topic: The topic answered last.
        area: The treatment area in play: named now, or earlier in the conversation.
        area_named_now: The area this message names, if it names one.
        has_content: False for "yes", "ok", "?", "for my face" and the like.
        awaiting: What the last reply asked for (``constants.AWAITING_*``), if anything.
    """

    intent: str | None
    predicted_intent: str | None
    current_topic: str | None
    area: str | None
    area_named_now: str | None
    has_content: bool
    awaiting: str | None


def read_context(tracker: Tracker, matcher: GuardrailMatcher) -> ConversationContext:
    """The context of the latest message (the matcher reads the text again when the Rasa side
    recorded nothing, as for a button payload)."""
    latest: dict[str, Any] = tracker.latest_message or {}
    text = str(latest.get("text") or "")
    recorded = latest.get(c.PARSE_KEY_GUARDRAIL)
    recorded = recorded if isinstance(recorded, dict) else {}
    intent = (latest.get("intent") or {}).get("name")
    areas = [e.get("value") for e in latest.get("entities") or [] if e.get("entity") == c.ENTITY_TREATMENT_AREA]
    content = recorded.get("has_content")
    if content is None or not areas:
        matches = matcher.match(text)
        areas = areas or [m.value for m in matches if m.entity == c.ENTITY_TREATMENT_AREA]
        content = has_content(text, matches) if content is None else content
    area_now = str(areas[-1]) if areas else None
    return ConversationContext(
        intent=intent,
        predicted_intent=recorded.get("predicted_intent", intent),
        current_topic=tracker.get_slot(c.SLOT_CURRENT_TOPIC),
        area=area_now or tracker.get_slot(c.SLOT_TREATMENT_AREA),
        area_named_now=area_now,
        has_content=bool(content),
        awaiting=tracker.get_slot(c.SLOT_AWAITING),
    )
