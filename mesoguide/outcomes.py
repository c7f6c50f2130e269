"""Outcome precedence (SPEC §1): red flag > contraindication > medical advice > human > answer.

One function decides which escalation, if any, a message gets. The Rasa component uses it to
route a message whatever intent the classifier predicted, and the actions use it again before
they answer (defence in depth), so both apply the same order.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from mesoguide import constants as c


class Escalation(str, enum.Enum):
    """Why a message goes to a person, highest precedence first."""

    RED_FLAG = "red_flag"
    CONTRAINDICATION = "contraindication"
    MEDICAL_ADVICE = "medical_advice"
    HUMAN = "human"

    @property
    def outcome(self) -> str:
        """The ``turn_outcome`` value, e.g. ``escalate:red_flag``."""
        return c.ESCALATE_PREFIX + self.value

    @property
    def intent(self) -> str:
        """The intent that stands for this escalation in the dialogue."""
        return _INTENT_OF[self]

    @property
    def rank(self) -> int:
        """Higher wins."""
        return len(PRECEDENCE) - PRECEDENCE.index(self)


PRECEDENCE: tuple[Escalation, ...] = (
    Escalation.RED_FLAG,
    Escalation.CONTRAINDICATION,
    Escalation.MEDICAL_ADVICE,
    Escalation.HUMAN,
)

_INTENT_OF = {
    Escalation.RED_FLAG: c.INTENT_RED_FLAG,
    Escalation.CONTRAINDICATION: c.INTENT_CONTRAINDICATION,
    Escalation.MEDICAL_ADVICE: c.INTENT_MEDICAL_ADVICE,
    Escalation.HUMAN: c.INTENT_HUMAN,
}
_ESCALATION_OF_INTENT = {intent: esc for esc, intent in _INTENT_OF.items()}
_ESCALATION_OF_ENTITY = {
    c.ENTITY_RED_FLAG: Escalation.RED_FLAG,
    c.ENTITY_CONTRAINDICATION: Escalation.CONTRAINDICATION,
    c.ENTITY_MEDICAL_ADVICE: Escalation.MEDICAL_ADVICE,
}


def escalation_for_intent(intent: str | None) -> Escalation | None:
    """The escalation an intent stands for, or ``None`` for any other intent."""
    return _ESCALATION_OF_INTENT.get(intent or "")


def decide_escalation(intent: str | None, entity_types: Iterable[str]) -> Escalation | None:
    """The highest-precedence escalation that the intent or the guardrail entities call for.

    Args:
        intent: The predicted intent name.
        entity_types: Entity labels found in the message (guardrail labels count, others
            are ignored).

    Returns:
        The escalation to give, or ``None`` when the message may be answered.
    """
    candidates = [_ESCALATION_OF_ENTITY[e] for e in entity_types if e in _ESCALATION_OF_ENTITY]
    from_intent = escalation_for_intent(intent)
    if from_intent is not None:
        candidates.append(from_intent)
    if not candidates:
        return None
    return max(candidates, key=lambda esc: esc.rank)


def topic_for_intent(intent: str | None, topic_ids: Iterable[str]) -> str | None:
    """The topic id of an FAQ intent (``ask_sessions`` -> ``sessions``), else ``None``.

    Only ids of the knowledge base count, so ``ask_contraindication`` or ``ask_is_bot`` are
    never mistaken for topics.
    """
    if not intent or not intent.startswith(c.TOPIC_INTENT_PREFIX):
        return None
    topic_id = intent[len(c.TOPIC_INTENT_PREFIX):]
    return topic_id if topic_id in set(topic_ids) else None


def answer_outcome(topic_id: str) -> str:
    """The ``turn_outcome`` of an answer, e.g. ``answer:sessions``."""
    return c.ANSWER_PREFIX + topic_id
