"""Rasa NLU component: guardrail matches become entities, and escalations win the intent.

Placed last in the NLU pipeline (after the intent classifiers and the FallbackClassifier), it
matches the message against the vocabularies with its own spaCy pipeline, turns the vocabulary
and area matches into entities (``red_flag``, ``contraindication``, ``medical_advice``,
``treatment_area``, with the vocabulary id as value), and, when the evidence calls for an
escalation of higher precedence than the predicted intent (:func:`.precedence.decide`), sets the
intent to that escalation (``report_red_flag``, ``ask_contraindication``, ``ask_medical_advice``,
``request_human``) with confidence 1. Rules then map that intent to ``action_escalate``. So
"I'm on warfarin, how long is downtime?" escalates whatever the classifiers predicted.

The component is trainable only in one sense: training builds the spaCy pipeline from the
vocabularies in ``knowledge/`` and stores it inside the model, so the model carries the
vocabularies it was trained with and needs no folder beside it. Rasa fingerprints the step by
the vocabularies' content (:meth:`GuardrailRouter.fingerprint_addon`), so editing a vocabulary
rebuilds it through Rasa's own cache, and nothing else retrains.

What the classifier predicted, its ranking and the matches are kept in the parse data under
``guardrail`` (:data:`mesoguide.constants.PARSE_KEY_GUARDRAIL`) for the audit trail, the staff
debug view and the actions' own re-check.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
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

from mesoguide.constants import (
    ENTITY_TREATMENT_AREA,
    INTENT_AFFIRM,
    INTENT_INFORM_AREA,
    INTENT_NLU_FALLBACK,
    INTENT_OUT_OF_SCOPE,
    INTENT_THANK,
    PARSE_KEY_GUARDRAIL,
    PARSE_KEY_SENTENCE_INTENTS,
)
from mesoguide.errors import ComponentConfigError
from mesoguide.guardrail.content import carries_content, declines, is_follow_up
from mesoguide.guardrail.matcher import GuardrailMatch, GuardrailMatcher
from mesoguide.guardrail.pipeline import PIPELINE_FORMAT, build_nlp, load_nlp, vocabulary_files
from mesoguide.guardrail.precedence import DEFAULT_ESCALATION_SHARE, Escalation, Evidence, decide, escalation_for_intent
from mesoguide.knowledge import load_knowledge
from mesoguide.paths import knowledge_dir

logger = logging.getLogger(__name__)


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER],
    is_trainable=True,
)
class GuardrailRouter(GraphComponent, EntityExtractorMixin):
    """Adds guardrail entities and lifts the intent to the escalation they call for.

    Args:
        matcher: The vocabulary matcher (its pipeline is what the model stores).
        escalation_share: The safety net's threshold, in (0, 1].
        model_storage: Where training stores the pipeline (absent in unit tests).
        resource: This component's place in the model storage.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """``escalation_share``: summed confidence of the escalation intents that escalates.
        ``knowledge``: the knowledge directory to build from (default: the project's)."""
        return {"escalation_share": DEFAULT_ESCALATION_SHARE, "knowledge": None}

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """The vocabularies' content: an edit retrains this step through Rasa's cache."""
        digest = hashlib.sha256(PIPELINE_FORMAT.encode())
        for path in vocabulary_files(knowledge_dir(config.get("knowledge"))):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
        return digest.hexdigest()

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> GuardrailRouter:
        """Before training: builds the pipeline from ``knowledge/`` (about 5 s)."""
        nlp = build_nlp(load_knowledge(knowledge_dir(config.get("knowledge"))))
        return cls(matcher=GuardrailMatcher(nlp=nlp), escalation_share=_share(config),
                   model_storage=model_storage, resource=resource)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> GuardrailRouter:
        """The trained component: the pipeline comes from the model, not from ``knowledge/``."""
        with model_storage.read_from(resource) as directory:
            nlp = load_nlp(directory)
        matcher = GuardrailMatcher(nlp=nlp)
        _LOADED_MATCHER[:] = [matcher]
        return cls(matcher=matcher, escalation_share=_share(config))

    def __init__(
        self,
        *,
        matcher: GuardrailMatcher,
        escalation_share: float = DEFAULT_ESCALATION_SHARE,
        model_storage: ModelStorage | None = None,
        resource: Resource | None = None,
    ) -> None:
        if not 0.0 < escalation_share <= 1.0:
            raise ComponentConfigError(
                f"GuardrailRouter escalation_share must be in (0, 1], got {escalation_share}; set it in "
                "config.yml (0.12 is the measured choice, docs/decisions/nlu-pipeline.md)"
            )
        self._matcher = matcher
        self._escalation_share = escalation_share
        self._model_storage = model_storage
        self._resource = resource

    def train(self, training_data: TrainingData) -> Resource:
        """Stores the vocabulary pipeline in the model (the training data is not used)."""
        if self._model_storage is None or self._resource is None:
            raise ComponentConfigError("GuardrailRouter needs a model storage to train: build it with create()")
        with self._model_storage.write_to(self._resource) as directory:
            self._matcher.nlp.to_disk(directory)
        return self._resource

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Leaves training data as written: the route applies to live messages only."""
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        """Adds entities and routes each message.

        Args:
            messages: Messages parsed by the earlier components.

        Returns:
            The same messages, with entities, maybe a new intent, and ``guardrail`` data.
        """
        for message in messages:
            self._route(message, self._matcher.match(message.get(TEXT) or ""))
        return messages

    def _route(self, message: Message, matches: list[GuardrailMatch]) -> None:
        entities = self.add_extractor_name([_entity(m) for m in matches])
        message.set(ENTITIES, message.get(ENTITIES, []) + entities, add_to_output=True)

        predicted = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
        ranking = [
            (str(r.get(INTENT_NAME_KEY)), float(r.get(PREDICTED_CONFIDENCE_KEY) or 0.0))
            for r in message.get(INTENT_RANKING_KEY) or []
            if r.get(INTENT_NAME_KEY) != INTENT_NLU_FALLBACK
        ]
        follow_up = is_follow_up(message.get(TEXT) or "", matches)
        content = carries_content(message.get(TEXT) or "", matches)
        sentences = [(str(name), float(conf)) for name, conf in message.get(PARSE_KEY_SENTENCE_INTENTS) or []]
        evidence = Evidence(
            predicted_intent=predicted, ranking=ranking, entity_types=[m.entity for m in matches],
            has_content=content, sentence_intents=sentences,
        )
        escalation = decide(evidence, escalation_share=self._escalation_share)
        new_intent = _routed_intent(
            predicted, escalation, content, matches, follow_up=follow_up, declined=declines(message.get(TEXT) or "")
        )
        routed = new_intent is not None
        if new_intent is not None:
            ranked = {INTENT_NAME_KEY: new_intent, PREDICTED_CONFIDENCE_KEY: 1.0}
            message.set(INTENT, ranked, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [ranked, *(message.get(INTENT_RANKING_KEY) or [])], add_to_output=True)
            logger.debug("guardrail routed '%s' to '%s'", predicted, new_intent)
        message.set(
            PARSE_KEY_GUARDRAIL,
            {
                "matches": [{"entity": m.entity, "value": m.value, "text": m.text} for m in matches],
                "predicted_intent": predicted,
                "ranking": [list(pair) for pair in ranking],
                "escalation_share": self._escalation_share,
                "has_content": content,
                "routed": routed,
            },
            add_to_output=True,
        )


# The matcher of the model this process loaded last: the Rasa server's never-silent path
# (mesoguide.runtime.never_silent) checks messages with the very vocabularies the model holds.
_LOADED_MATCHER: list[GuardrailMatcher] = []


def loaded_matcher() -> GuardrailMatcher | None:
    """The guardrail matcher of the model loaded in this process, if one was loaded."""
    return _LOADED_MATCHER[-1] if _LOADED_MATCHER else None


def _routed_intent(
    predicted: str | None,
    escalation: Escalation | None,
    content: bool,
    matches: list[GuardrailMatch],
    *,
    follow_up: bool = False,
    declined: bool = False,
) -> str | None:
    """The intent the dialogue should act on instead of the predicted one, or ``None`` to keep it.

    An escalation of higher precedence than the prediction wins. A message that only names a
    treatment area ("for my face", "and for cellulite?") or asks to go on ("tell me more", "why?")
    is a follow-up of the last answer, whatever the classifier guessed from so few words.
    """
    if escalation is not None:
        return escalation.intent if escalation != escalation_for_intent(predicted) else None
    if predicted == INTENT_AFFIRM and declined:
        # "no thats ok" shares "ok" with a yes: it turns the offer down, politely.
        return INTENT_THANK
    if follow_up and predicted != INTENT_AFFIRM:  # "go on then" after an offer is a yes
        return INTENT_INFORM_AREA if predicted != INTENT_INFORM_AREA else None
    if escalation_for_intent(predicted) is not None and not content:
        # The classifier's escalation guess about a message without content is not a decision.
        return INTENT_INFORM_AREA if _names_an_area(matches) else INTENT_OUT_OF_SCOPE
    if not content and _names_an_area(matches) and predicted != INTENT_INFORM_AREA:
        return INTENT_INFORM_AREA
    return None


def _names_an_area(matches: list[GuardrailMatch]) -> bool:
    return any(m.entity == ENTITY_TREATMENT_AREA for m in matches)



def _share(config: dict[str, Any]) -> float:
    return float(config.get("escalation_share", DEFAULT_ESCALATION_SHARE))


def _entity(match: GuardrailMatch) -> dict[str, Any]:
    return {
        ENTITY_ATTRIBUTE_TYPE: match.entity,
        ENTITY_ATTRIBUTE_VALUE: match.value,
        ENTITY_ATTRIBUTE_START: match.start,
        ENTITY_ATTRIBUTE_END: match.end,
        "text": match.text,
    }
