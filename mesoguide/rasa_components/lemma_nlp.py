"""Rasa's spaCy model provider, built in memory: blank English with lookup lemmas.

Rasa's own ``SpacyNLP`` loads a pipeline from a path or an installed package. spaCy's
pretrained pipelines cannot be downloaded here, and a pipeline the project builds on disk ties
the trained model to a folder that only the build creates. This provider builds the same blank
English pipeline with the lookup lemmatizer (tables from the ``spacy-lookups-data`` package) in
memory, so ``rasa train``, ``rasa run`` and ``rasa shell`` work from a fresh clone, and the model
works from any directory. The vocabulary matching lives in the guardrail router, which carries
its own pipeline inside the model (see :mod:`mesoguide.guardrail.rasa_router`).
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.utils.spacy_utils import SpacyModel, SpacyNLP

from mesoguide.guardrail.pipeline import make_base_nlp

MODEL_NAME = "mesoguide-blank-en-lookup-lemmas"


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.MODEL_LOADER, DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER],
    is_trainable=False,
    model_from="LemmaSpacyNLP",
)
class LemmaSpacyNLP(SpacyNLP):
    """A ``SpacyNLP`` whose model is blank English + lookup lemmas, made at start-up (~0.3 s).

    A subclass, so ``SpacyTokenizer`` (which requires ``SpacyNLP``) accepts it; the docs it
    adds to messages are the ones ``SpacyNLP`` would add.
    """

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LemmaSpacyNLP:
        """Builds the pipeline; any ``model`` key in the configuration is ignored."""
        return cls(SpacyModel(model=make_base_nlp(), model_name=MODEL_NAME), {**cls.get_default_config(), **config})

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LemmaSpacyNLP:
        """Nothing is stored for this component: loading is building."""
        return cls.create(config, model_storage, resource, execution_context)
