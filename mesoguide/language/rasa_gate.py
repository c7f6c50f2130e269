"""Rasa NLU component: the message's language, and red flags written in other languages.

Placed after :class:`mesoguide.guardrail.rasa_router.GuardrailRouter`, whose record says
whether an English vocabulary term matched (then the message is English: a mixed message
is the English guardrail's to judge). It records the :class:`.rail.LanguageVerdict` under
``language`` in the parse data and routes:

- a red flag found by another language's vocabulary: ``report_red_flag`` (confidence 1), whatever
  the English side predicted, so the rules send it to ``action_escalate``, which replies in that
  language;
- a message in a pack's language with no red flag: ``out_of_scope``, whose action sends the
  pack's safe reply (English only, the clinic's phone and hours, the emergency number). The English
  classifier has never seen that language: its guesses about it are noise.

Training stores the packs' red-flag vocabularies inside the model (like the guardrail's
pipeline), fingerprinted by the language files' content.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from mesoguide.constants import (
    ENTITY_RED_FLAG,
    ENTITY_TREATMENT_AREA,
    INTENT_OUT_OF_SCOPE,
    INTENT_RED_FLAG,
    METADATA_KEY_LANGUAGE,
    PARSE_KEY_GUARDRAIL,
    PARSE_KEY_LANGUAGE,
)
from mesoguide.errors import ComponentConfigError
from mesoguide.knowledge import ForeignRedFlag, load_knowledge
from mesoguide.knowledge.languages import language_files
from mesoguide.language.rail import LanguageRail, LanguageVerdict
from mesoguide.paths import knowledge_dir

_STORED = "vocabularies.json"
_FORMAT = "language-gate-v1"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class LanguageGate(GraphComponent):
    """Records each message's language and routes red flags and other languages.

    Args:
        rail: The language rail (identifier and red-flag matchers).
        model_storage: Where training stores the vocabularies (absent in unit tests).
        resource: This component's place in the model storage.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """``low_accuracy``: the detector's low-accuracy mode. ``knowledge``: the directory."""
        return {"low_accuracy": False, "knowledge": None}

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """The language files' content: an edit rebuilds this step only."""
        digest = hashlib.sha256(_FORMAT.encode())
        for path in language_files(knowledge_dir(config.get("knowledge"))):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
        return digest.hexdigest()

    @classmethod
    def create(
        cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource, execution_context: ExecutionContext
    ) -> LanguageGate:
        """Before training: the packs of ``knowledge/``."""
        packs = load_knowledge(knowledge_dir(config.get("knowledge"))).languages
        rail = LanguageRail.from_packs(packs, low_accuracy=bool(config.get("low_accuracy")))
        return cls(rail=rail, model_storage=model_storage, resource=resource)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LanguageGate:
        """The trained component: the vocabularies come from the model."""
        with model_storage.read_from(resource) as directory:
            stored = json.loads((Path(directory) / _STORED).read_text(encoding="utf-8"))
        vocabularies = {
            code: tuple(ForeignRedFlag(id=e["id"], terms=tuple(e["terms"])) for e in entries)
            for code, entries in stored.items()
        }
        rail = LanguageRail(vocabularies=vocabularies, low_accuracy=bool(config.get("low_accuracy")))
        _LOADED_RAIL[:] = [rail]
        return cls(rail=rail)

    def __init__(
        self, *, rail: LanguageRail, model_storage: ModelStorage | None = None, resource: Resource | None = None
    ) -> None:
        self._rail = rail
        self._model_storage = model_storage
        self._resource = resource

    def train(self, training_data: TrainingData) -> Resource:
        """Stores the vocabularies in the model (the training data is not used)."""
        if self._model_storage is None or self._resource is None:
            raise ComponentConfigError("LanguageGate needs a model storage to train: build it with create()")
        stored = {
            code: [{"id": e.id, "terms": list(e.terms)} for e in entries] for code, entries in self._rail.vocabularies.items()
        }
        with self._model_storage.write_to(self._resource) as directory:
            (Path(directory) / _STORED).write_text(json.dumps(stored, ensure_ascii=False), encoding="utf-8")
        return self._resource

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Leaves training data as written."""
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        """Records the verdict and routes each message."""
        for message in messages:
            terms = _english_terms(message)
            verdict = self._rail.read(
                message.get(TEXT) or "", english_terms=bool(terms - {ENTITY_TREATMENT_AREA}),
                english_red_flag=ENTITY_RED_FLAG in terms,
                hint=_hint(message),
            )
            message.set(PARSE_KEY_LANGUAGE, verdict.as_record(), add_to_output=True)
            routed = routed_intent(verdict, (message.get(INTENT) or {}).get(INTENT_NAME_KEY))
            if routed is not None:
                ranked = {INTENT_NAME_KEY: routed, PREDICTED_CONFIDENCE_KEY: 1.0}
                message.set(INTENT, ranked, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [ranked, *(message.get(INTENT_RANKING_KEY) or [])], add_to_output=True)
        return messages


def routed_intent(verdict: LanguageVerdict, intent: str | None) -> str | None:
    """The intent the dialogue acts on instead of ``intent``, or None to keep it."""
    if verdict.is_red_flag:
        return INTENT_RED_FLAG if intent != INTENT_RED_FLAG else None
    if verdict.needs_language_reply and intent != INTENT_OUT_OF_SCOPE:
        # Whatever the English side guessed came from the classifiers alone (an English vocabulary
        # term would have made the message English): noise, even a red-flag guess.
        return INTENT_OUT_OF_SCOPE
    return None


# The rail of the model this process loaded last: the Rasa server's never-silent path checks
# messages with the vocabularies the model holds.
_LOADED_RAIL: list[LanguageRail] = []


def loaded_rail() -> LanguageRail | None:
    """The language rail of the model loaded in this process, if one was loaded."""
    return _LOADED_RAIL[-1] if _LOADED_RAIL else None


def _english_terms(message: Message) -> set[str]:
    """The entities of the English guardrail's matches (``red_flag``, ``treatment_area``, ...)."""
    record = message.get(PARSE_KEY_GUARDRAIL)
    matches = record.get("matches") if isinstance(record, dict) else None
    return {str(m.get("entity")) for m in matches or [] if isinstance(m, dict)}


def _hint(message: Message) -> str | None:
    metadata = message.get("metadata")
    hint = metadata.get(METADATA_KEY_LANGUAGE) if isinstance(metadata, dict) else None
    return hint if isinstance(hint, str) else None

