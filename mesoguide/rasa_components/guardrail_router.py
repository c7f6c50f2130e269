"""Rasa NLU component: guardrail matches become entities, and escalations win the intent.

Placed last in the NLU pipeline (after the intent classifiers and the FallbackClassifier), it reads the spaCy doc
that ``SpacyNLP`` made, turns the vocabulary and area matches into entities
(``red_flag``, ``contraindication``, ``medical_advice``, ``treatment_area``, with the
vocabulary id as value), and, when a match calls for an escalation of higher precedence than
the predicted intent, sets the intent to that escalation (``report_red_flag``,
``ask_contraindication``, ``ask_medical_advice``) with confidence 1. A fallback whose best guess
was an escalation escalates too, and so does a message to which the classifier gives the
guardrail's escalation intents together at least ``escalation_share`` of its confidence (the
safety net for phrasings the vocabularies do not list yet; README "Choices" has the numbers).
Rules then map that intent to ``action_escalate``. So "I'm on warfarin, how long is downtime?"
escalates whatever the classifiers predicted, and a low-confidence "pregnant??" escalates instead of
falling back.

What the classifier predicted is kept in the parse data under ``guardrail`` for the audit
trail and the staff debug view.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import SPACY_DOCS
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.nlu.utils.spacy_utils import SpacyModel, SpacyNLP
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from mesoguide.constants import INTENT_CONTRAINDICATION, INTENT_MEDICAL_ADVICE, INTENT_NLU_FALLBACK, INTENT_RED_FLAG
from mesoguide.guardrail.matcher import GuardrailMatch, matches_in_doc
from mesoguide.outcomes import decide_escalation, escalation_for_intent

logger = logging.getLogger(__name__)

GUARDRAIL_KEY = "guardrail"  # parse-data key: matches and the classifier's own intent
DEFAULT_ESCALATION_SHARE = 0.12
# The intents the safety net adds up: the guardrail's own escalations. A human request is
# not a safety question, so a little "talk to someone" confidence does not escalate.
_NET_INTENTS = frozenset({INTENT_RED_FLAG, INTENT_CONTRAINDICATION, INTENT_MEDICAL_ADVICE})


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER],
    is_trainable=False,
    model_from="SpacyNLP",
)
class GuardrailRouter(GraphComponent, EntityExtractorMixin):
    """Adds guardrail entities and lifts the intent to the escalation they call for."""

    @classmethod
    def required_components(cls) -> list[type]:
        """SpacyNLP makes the doc this component reads."""
        return [SpacyNLP]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """``escalation_share``: summed confidence of the escalation intents that escalates."""
        return {"escalation_share": DEFAULT_ESCALATION_SHARE}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> GuardrailRouter:
        """Creates the component (it has nothing to train)."""
        return cls(escalation_share=float(config.get("escalation_share", DEFAULT_ESCALATION_SHARE)))

    def __init__(self, *, escalation_share: float = DEFAULT_ESCALATION_SHARE) -> None:
        if not 0.0 < escalation_share <= 1.0:
            raise ValueError(
                f"GuardrailRouter escalation_share must be in (0, 1], got {escalation_share}; "
                "set it in config.yml (0.12 is the measured choice, README 'Choices')"
            )
        self._escalation_share = escalation_share

    def process_training_data(self, training_data: TrainingData, model: SpacyModel) -> TrainingData:
        """Leaves training data as written: the route applies to live messages only."""
        return training_data

    def process(self, messages: list[Message], model: SpacyModel) -> list[Message]:
        """Adds entities and routes each message.

        Args:
            messages: Messages parsed by the earlier components.
            model: The guardrail spaCy pipeline loaded by ``SpacyNLP``.

        Returns:
            The same messages, with entities, maybe a new intent, and ``guardrail`` data.
        """
        for message in messages:
            text = message.get(TEXT) or ""
            doc = message.get(SPACY_DOCS[TEXT]) or model.model(text.lower())
            self._route(message, matches_in_doc(doc, original_text=text))
        return messages

    def _route(self, message: Message, matches: list[GuardrailMatch]) -> None:
        entities = self.add_extractor_name([_entity(m) for m in matches])
        message.set(ENTITIES, message.get(ENTITIES, []) + entities, add_to_output=True)

        predicted = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
        deciding = _deciding_intent(message, predicted, self._escalation_share)
        escalation = decide_escalation(deciding, (m.entity for m in matches))
        routed = False
        if escalation is not None and escalation != escalation_for_intent(predicted):
            routed = True
            new_intent = {INTENT_NAME_KEY: escalation.intent, PREDICTED_CONFIDENCE_KEY: 1.0}
            message.set(INTENT, new_intent, add_to_output=True)
            ranking = message.get(INTENT_RANKING_KEY) or []
            message.set(INTENT_RANKING_KEY, [new_intent, *ranking], add_to_output=True)
            logger.debug("guardrail routed '%s' to '%s'", predicted, escalation.intent)
        message.set(
            GUARDRAIL_KEY,
            {
                "matches": [{"entity": m.entity, "value": m.value, "text": m.text} for m in matches],
                "predicted_intent": predicted,
                "routed": routed,
            },
            add_to_output=True,
        )


def _deciding_intent(message: Message, predicted: str | None, escalation_share: float) -> str | None:
    """The intent that decides the escalation.

    When the classifier was unsure (``nlu_fallback``) and its best guess is an escalation,
    the guess decides: safety beats helpfulness (SPEC §1), and a fallback would answer a
    possibly unsafe question with topic buttons instead of a clinician's number.
    When the guardrail's escalation intents share at least ``escalation_share`` of the
    confidence, the likeliest of them decides, even if a topic came first: an answer to a
    question a clinician should have had costs far more than a needless referral.
    """
    ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != INTENT_NLU_FALLBACK]
    if escalation_for_intent(predicted) is not None:
        return predicted
    if predicted == INTENT_NLU_FALLBACK and ranking and escalation_for_intent(ranking[0].get(INTENT_NAME_KEY)):
        return ranking[0].get(INTENT_NAME_KEY)
    guarded = [r for r in ranking if r.get(INTENT_NAME_KEY) in _NET_INTENTS]
    if guarded and sum(r.get(PREDICTED_CONFIDENCE_KEY) or 0.0 for r in guarded) >= escalation_share:
        return max(guarded, key=lambda r: r.get(PREDICTED_CONFIDENCE_KEY) or 0.0).get(INTENT_NAME_KEY)
    return predicted


def _entity(match: GuardrailMatch) -> dict[str, Any]:
    return {
        ENTITY_ATTRIBUTE_TYPE: match.entity,
        ENTITY_ATTRIBUTE_VALUE: match.value,
        ENTITY_ATTRIBUTE_START: match.start,
        ENTITY_ATTRIBUTE_END: match.end,
        "text": match.text,
    }
