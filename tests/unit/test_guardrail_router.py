"""The Rasa component: matches become entities, escalations win the intent, the model carries it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from mesoguide import constants as c
from mesoguide.errors import ComponentConfigError
from mesoguide.guardrail.matcher import GuardrailMatcher
from mesoguide.guardrail.rasa_router import GuardrailRouter
from mesoguide.paths import REPO_ROOT

GUARDRAIL_KEY = c.PARSE_KEY_GUARDRAIL


def route(matcher: GuardrailMatcher, text: str, intent: str, ranking: list[tuple[str, float]]) -> Message:
    message = Message(
        data={
            "text": text,
            "intent": {"name": intent, "confidence": ranking[0][1]},
            "intent_ranking": [{"name": n, "confidence": p} for n, p in ranking],
        }
    )
    GuardrailRouter(matcher=matcher)._route(message, matcher.match(text))
    return message


@pytest.mark.parametrize(
    ("text", "intent", "ranking", "expected"),
    [
        ("how long is downtime", "ask_downtime", [("ask_downtime", 0.9)], "ask_downtime"),
        ("I'm on warfarin, how long is downtime", "ask_downtime", [("ask_downtime", 0.9)], c.INTENT_CONTRAINDICATION),
        ("pus and I'm pregnant", c.INTENT_CONTRAINDICATION, [(c.INTENT_CONTRAINDICATION, 0.9)], c.INTENT_RED_FLAG),
        # unsure, best guess an escalation: escalate
        (
            "hmm what now",
            c.INTENT_NLU_FALLBACK,
            [(c.INTENT_NLU_FALLBACK, 0.3), (c.INTENT_MEDICAL_ADVICE, 0.2)],
            c.INTENT_MEDICAL_ADVICE,
        ),
        # unsure, best guess a topic: stay a fallback
        ("hmm what now", c.INTENT_NLU_FALLBACK, [(c.INTENT_NLU_FALLBACK, 0.3), ("ask_pain", 0.2)], c.INTENT_NLU_FALLBACK),
        # safety net: escalation intents together hold >= 0.12 of the confidence -> the likeliest one
        (
            "hmm what now",
            "ask_pain",
            [("ask_pain", 0.8), (c.INTENT_RED_FLAG, 0.07), (c.INTENT_CONTRAINDICATION, 0.06)],
            c.INTENT_RED_FLAG,
        ),
        ("hmm what now", "ask_pain", [("ask_pain", 0.9), (c.INTENT_MEDICAL_ADVICE, 0.11)], "ask_pain"),
        # a human request's share does not count: it is not a safety question
        ("hmm what now", "ask_pain", [("ask_pain", 0.8), (c.INTENT_HUMAN, 0.15)], "ask_pain"),
    ],
)
def test_routing(matcher: GuardrailMatcher, text, intent, ranking, expected) -> None:
    message = route(matcher, text, intent, ranking)
    assert message.get("intent")["name"] == expected
    assert message.get(GUARDRAIL_KEY)["predicted_intent"] == intent
    assert message.get(GUARDRAIL_KEY)["routed"] is (expected != intent)


def test_matches_become_entities_with_vocabulary_ids(matcher: GuardrailMatcher) -> None:
    message = route(matcher, "sessions for hair? I take Xarelto", "ask_sessions", [("ask_sessions", 0.9)])
    entities = {(e["entity"], e["value"], e["text"]) for e in message.get("entities")}
    assert entities == {("treatment_area", "scalp", "hair"), ("contraindication", "anticoagulant", "Xarelto")}


def test_escalation_share_is_validated(matcher: GuardrailMatcher) -> None:
    with pytest.raises(ComponentConfigError, match="escalation_share"):
        GuardrailRouter(matcher=matcher, escalation_share=0.0)


def test_the_route_records_what_the_actions_re_check(matcher: GuardrailMatcher) -> None:
    message = route(matcher, "hmm what now", "ask_pain", [("ask_pain", 0.8), (c.INTENT_RED_FLAG, 0.13)])
    recorded = message.get(GUARDRAIL_KEY)
    assert recorded["ranking"] == [["ask_pain", 0.8], [c.INTENT_RED_FLAG, 0.13]]
    assert recorded["escalation_share"] == 0.12


def _context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), "test")


def test_training_stores_the_pipeline_inside_the_model(tmp_path: Path) -> None:
    """Trained once, the component loads from the model alone: knowledge/ may be gone."""
    knowledge = tmp_path / "knowledge"
    shutil.copytree(REPO_ROOT / "knowledge", knowledge)
    (tmp_path / "model").mkdir()
    storage, resource = LocalModelStorage(tmp_path / "model"), Resource("router")
    config = {**GuardrailRouter.get_default_config(), "knowledge": str(knowledge)}
    GuardrailRouter.create(config, storage, resource, _context()).train(TrainingData())
    shutil.rmtree(knowledge)

    loaded = GuardrailRouter.load(config, storage, resource, _context())
    [message] = loaded.process([Message(data={"text": "I take Xarelto", "intent": {"name": "ask_pain", "confidence": 0.9}})])
    assert message.get("intent")["name"] == c.INTENT_CONTRAINDICATION


def test_a_vocabulary_edit_changes_the_fingerprint(tmp_path: Path) -> None:
    """Rasa's cache keys the stored pipeline by the vocabularies' content, not their path."""
    knowledge = tmp_path / "knowledge"
    shutil.copytree(REPO_ROOT / "knowledge", knowledge)
    config = {"knowledge": str(knowledge)}
    before = GuardrailRouter.fingerprint_addon(config)
    assert GuardrailRouter.fingerprint_addon(config) == before
    (knowledge / "topics" / "pain.yml").write_text("# a topic edit does not touch the guardrail\n", encoding="utf-8")
    assert GuardrailRouter.fingerprint_addon(config) == before
    vocabulary = knowledge / "vocabularies" / "red_flags.yml"
    vocabulary.write_text(vocabulary.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert GuardrailRouter.fingerprint_addon(config) != before
