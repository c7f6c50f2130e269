"""What the classifier thought an unclear message was about: the topics it ranked.

Rasa's ``FallbackClassifier`` turns a message into ``nlu_fallback`` when its first intent is
below ``threshold`` or when the first two are within ``ambiguity_threshold`` of each other
(config.yml; the same numbers are here, and a test keeps them equal). The fallback then uses
the ranking the guardrail router recorded (without ``nlu_fallback``):

* **two topics tied** (the first at least ``threshold``, the second within the margin): both
  fit, so the patient gets the first topic's answer and the second as the first button, instead
  of "I'm not sure I understood";
* **anything else with content**: the fallback text, with the topics the classifier ranked at
  least :data:`CHOICE_FLOOR` as the first buttons (the likeliest first), then the usual ones.

Only topics count (``ask_<topic id>``); an escalation or smalltalk intent ranked first means no
tie. Escalation is decided before any of this (:class:`actions.guarded.GuardedAction`).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker

from mesoguide import constants as c
from mesoguide.knowledge.topics import topic_for_intent

#: config.yml, FallbackClassifier: ``threshold`` and ``ambiguity_threshold``.
FALLBACK_THRESHOLD = 0.3
TIE_MARGIN = 0.05
#: A topic ranked at least this high is offered first among the fallback's buttons.
CHOICE_FLOOR = 0.1
MAX_CHOICES = 3


def ranking(tracker: Tracker) -> list[tuple[str, float]]:
    """The classifier's intents for the latest message, best first, without ``nlu_fallback``."""
    latest: dict[str, Any] = tracker.latest_message or {}
    recorded = latest.get(c.PARSE_KEY_GUARDRAIL)
    pairs = recorded.get("ranking") if isinstance(recorded, dict) else None
    if pairs is None:
        pairs = [(r.get("name"), r.get("confidence")) for r in latest.get("intent_ranking") or []]
    ranked = []
    for name, confidence in pairs:
        if isinstance(name, str) and name != c.INTENT_NLU_FALLBACK and isinstance(confidence, (int, float)):
            ranked.append((name, float(confidence)))
    return sorted(ranked, key=lambda pair: -pair[1])


def tied_topics(ranked: list[tuple[str, float]], topic_ids: Any) -> tuple[str, str] | None:
    """The two topics that tie at the top of ``ranked``, or None."""
    if len(ranked) < 2:
        return None
    (first, p1), (second, p2) = ranked[0], ranked[1]
    t1, t2 = topic_for_intent(first, topic_ids), topic_for_intent(second, topic_ids)
    if t1 is None or t2 is None or p1 < FALLBACK_THRESHOLD or p1 - p2 >= TIE_MARGIN:
        return None
    return t1, t2


def likely_topics(ranked: list[tuple[str, float]], topic_ids: Any) -> list[str]:
    """The topics ranked at least :data:`CHOICE_FLOOR`, best first, at most :data:`MAX_CHOICES`."""
    found: list[str] = []
    for name, confidence in ranked:
        topic = topic_for_intent(name, topic_ids)
        if topic is not None and confidence >= CHOICE_FLOOR and topic not in found:
            found.append(topic)
    return found[:MAX_CHOICES]
