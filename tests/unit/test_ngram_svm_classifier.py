"""NgramSvmIntentClassifier: trains, stores, reloads, blends with DIET, refuses bad config."""

from __future__ import annotations

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from mesoguide.errors import ComponentConfigError
from mesoguide.rasa_components.ngram_svm_classifier import DEFAULTS, NgramSvmIntentClassifier

EXAMPLES = {
    "ask_pain": ["does it hurt", "is it painful", "how much pain is there", "will the needles hurt"],
    "ask_cost": ["how much does it cost", "what is the price", "is it expensive", "price per session"],
    "ask_downtime": ["how long is the downtime", "when can I go back to work", "recovery time", "time off needed"],
}


@pytest.fixture
def storage(tmp_path) -> LocalModelStorage:
    return LocalModelStorage(tmp_path)


def _context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), node_name="ngram_svm")


def _training_data() -> TrainingData:
    return TrainingData([Message(data={TEXT: t, INTENT: i}) for i, texts in EXAMPLES.items() for t in texts])


def _trained(storage: LocalModelStorage, **config) -> tuple[NgramSvmIntentClassifier, Resource]:
    resource = Resource("ngram_svm")
    component = NgramSvmIntentClassifier.create({**DEFAULTS, **config}, storage, resource, _context())
    component.train(_training_data())
    return component, resource


def _message(text: str, ranking: list[tuple[str, float]] | None = None) -> Message:
    message = Message(data={TEXT: text})
    if ranking is not None:
        message.set(INTENT_RANKING_KEY, [{"name": n, "confidence": c} for n, c in ranking])
        message.set(INTENT, {"name": ranking[0][0], "confidence": ranking[0][1]})
    return message


def test_svm_alone_classifies_unseen_phrasings(storage):
    component, _ = _trained(storage, previous_weight=0.0)
    messages = component.process([_message("does the treatment hurt a lot"), _message("what's the price")])
    assert [m.get(INTENT)["name"] for m in messages] == ["ask_pain", "ask_cost"]
    ranking = messages[0].get(INTENT_RANKING_KEY)
    assert sum(r["confidence"] for r in ranking) == pytest.approx(1.0)
    assert ranking == sorted(ranking, key=lambda r: -r["confidence"])


def test_blend_weights_the_previous_classifier(storage):
    diet = [("ask_downtime", 1.0)]  # DIET certain of another intent
    svm_only, _ = _trained(storage, previous_weight=0.0)
    alone = {r["name"]: r["confidence"] for r in svm_only.process([_message("does it hurt")])[0].get(INTENT_RANKING_KEY)}
    blended_component, _ = _trained(storage, previous_weight=0.3)
    blended = {
        r["name"]: r["confidence"]
        for r in blended_component.process([_message("does it hurt", diet)])[0].get(INTENT_RANKING_KEY)
    }
    assert blended["ask_pain"] == pytest.approx(0.7 * alone["ask_pain"])
    assert blended["ask_downtime"] == pytest.approx(0.7 * alone["ask_downtime"] + 0.3)


def test_previous_weight_one_keeps_the_previous_ranking(storage):
    component, _ = _trained(storage, previous_weight=1.0)
    message = component.process([_message("does it hurt", [("ask_cost", 0.9), ("ask_pain", 0.1)])])[0]
    assert message.get(INTENT)["name"] == "ask_cost"
    assert message.get(INTENT)["confidence"] == pytest.approx(0.9)


def test_stored_model_reloads_with_the_same_predictions(storage):
    component, resource = _trained(storage)
    reloaded = NgramSvmIntentClassifier.load(DEFAULTS, storage, resource, _context())
    texts = ["does it hurt", "recovery time after", "cost of a session"]
    before = [m.get(INTENT_RANKING_KEY) for m in component.process([_message(t) for t in texts])]
    after = [m.get(INTENT_RANKING_KEY) for m in reloaded.process([_message(t) for t in texts])]
    assert before == after


def test_untrained_component_leaves_messages_alone(storage):
    component = NgramSvmIntentClassifier.load(DEFAULTS, storage, Resource("never_trained"), _context())
    message = component.process([_message("does it hurt", [("ask_cost", 0.6)])])[0]
    assert message.get(INTENT)["name"] == "ask_cost"


@pytest.mark.parametrize(
    "config, key",
    [
        ({"previous_weight": 1.5}, "previous_weight"),
        ({"temperature": 0}, "temperature"),
        ({"C": -1}, "C"),
        ({"word_ngrams": [2, 1]}, "word_ngrams"),
        ({"char_ngrams": [3]}, "char_ngrams"),
    ],
)
def test_bad_config_names_the_key_to_fix(storage, config, key):
    with pytest.raises(ComponentConfigError, match=f"config.yml.*{key}"):
        NgramSvmIntentClassifier.create({**DEFAULTS, **config}, storage, Resource("x"), _context())


def test_a_story_is_split_into_its_sentences() -> None:
    from mesoguide.rasa_components.ngram_svm_classifier import split_sentences

    story = (
        "We had a lovely holiday in May. Since the injections my cheek keeps getting darker!\n"
        "Anyway how long do results last?"
    )
    assert split_sentences(story) == [
        "We had a lovely holiday in May.",
        "Since the injections my cheek keeps getting darker!",
        "Anyway how long do results last?",
    ]
    assert split_sentences("does it hurt? ok") == ["does it hurt?"], "fragments of one or two words are not sentences"


def test_messages_scored_together_get_what_each_gets_alone(storage):
    from mesoguide.constants import PARSE_KEY_SENTENCE_INTENTS

    component, _ = _trained(storage)
    texts = [
        "does it hurt",
        "We booked it for May. Is it painful for most people? And what is the price per session?",
        "how long is the downtime",
        "My sister had it last year. When can I go back to work?",
    ]
    together = component.process([_message(t, [("ask_cost", 0.6), ("ask_pain", 0.4)]) for t in texts])
    alone = [component.process([_message(t, [("ask_cost", 0.6), ("ask_pain", 0.4)])])[0] for t in texts]
    for mine, single in zip(together, alone, strict=True):
        assert mine.get(INTENT_RANKING_KEY) == single.get(INTENT_RANKING_KEY)
        assert mine.get(PARSE_KEY_SENTENCE_INTENTS) == single.get(PARSE_KEY_SENTENCE_INTENTS)
    assert [len(m.get(PARSE_KEY_SENTENCE_INTENTS) or []) for m in together] == [0, 3, 0, 2]
    from mesoguide.rasa_components.ngram_svm_classifier import _softmax

    scores = _softmax(component._pipeline.decision_function(["Is it painful for most people?"]), DEFAULTS["temperature"])[0]
    classes = list(component._pipeline.classes_)
    assert together[1].get(PARSE_KEY_SENTENCE_INTENTS)[1] == [classes[scores.argmax()], round(float(scores.max()), 4)]
