"""domain.yml, the training data and the rules agree with mesoguide.constants and knowledge/.

These are the checks Sara's demo bot lacked: a renamed intent, a response or slot spelled
differently in two places, or a topic without an intent fails here, not in front of a patient.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import yaml

from mesoguide import constants as c
from mesoguide.guardrail.precedence import PRECEDENCE, Escalation
from mesoguide.knowledge import KnowledgeBase
from mesoguide.paths import REPO_ROOT
from tests.conftest import nlu_examples

MIN_EXAMPLES = 15  # at least 15 varied examples per intent


def _rule_routes() -> dict[str, set[str]]:
    rules = yaml.safe_load((REPO_ROOT / "data" / "rules.yml").read_text(encoding="utf-8"))["rules"]
    routes: dict[str, set[str]] = {}
    for rule in rules:
        steps = rule["steps"]
        if "intent" not in steps[0] and "or" not in steps[0]:
            continue  # a rule that continues a form (the callback form ending), not a route
        intents = [s["intent"] for s in steps[0]["or"]] if "or" in steps[0] else [steps[0]["intent"]]
        for intent in intents:
            routes.setdefault(intent, set()).add(steps[1]["action"])
    return routes


def test_every_topic_has_an_intent(domain: dict[str, Any], kb: KnowledgeBase) -> None:
    intents = set(domain["intents"])
    assert {c.TOPIC_INTENT_PREFIX + t for t in kb.topics} <= intents


def test_domain_names_match_the_constants(domain: dict[str, Any]) -> None:
    assert {c.SLOT_TURN_OUTCOME, c.SLOT_TREATMENT_AREA, c.SLOT_CURRENT_TOPIC} <= set(domain["slots"])
    assert {*c.GUARDRAIL_ENTITIES, c.ENTITY_TREATMENT_AREA} <= set(domain["entities"])
    conversation = {c.INTENT_INFORM_AREA, c.INTENT_OUT_OF_SCOPE, c.INTENT_AFFIRM}
    assert {e.intent for e in PRECEDENCE} | set(c.SMALLTALK_INTENTS) | conversation <= set(domain["intents"])
    assert domain["slots"][c.SLOT_AWAITING]["values"] == [c.AWAITING_CALLBACK_OFFER]
    assert domain["slots"][c.SLOT_TREATMENT_AREA]["mappings"] == [
        {"type": "from_entity", "entity": c.ENTITY_TREATMENT_AREA}
    ]


def test_domain_holds_no_knowledge_text(domain: dict[str, Any]) -> None:
    """Answers come from knowledge/ through actions; the domain must not duplicate them."""
    assert not domain.get("responses")


def test_every_intent_has_enough_examples(domain: dict[str, Any]) -> None:
    examples = nlu_examples()
    counts = {intent: len(examples.get(intent, [])) for intent in domain["intents"]}
    assert {i: n for i, n in counts.items() if n < MIN_EXAMPLES} == {}
    assert set(examples) <= set(domain["intents"]), "NLU data names intents the domain lacks"


def test_no_example_is_trained_under_two_intents() -> None:
    owners = Counter()
    for lines in nlu_examples().values():
        for line in set(x.lower() for x in lines):
            owners[line] += 1
    assert [line for line, n in owners.items() if n > 1] == []


def test_every_intent_is_routed_to_the_right_action(domain: dict[str, Any], kb: KnowledgeBase) -> None:
    routes = _rule_routes()
    expected = {c.TOPIC_INTENT_PREFIX + t: c.ACTION_ANSWER_TOPIC for t in kb.topics}
    expected |= {e.intent: c.ACTION_ESCALATE for e in PRECEDENCE}
    expected |= {i: c.ACTION_REPLY_SMALLTALK for i in c.SMALLTALK_INTENTS}
    expected |= {
        c.INTENT_INFORM_AREA: c.ACTION_ANSWER_TOPIC,
        c.INTENT_OUT_OF_SCOPE: c.ACTION_OFFER_HELP,
        c.INTENT_NLU_FALLBACK: c.ACTION_OFFER_HELP,
        c.INTENT_REQUEST_CALLBACK: c.FORM_CALLBACK,
    }
    expected_routes = {i: {a} for i, a in expected.items()}
    # A bare "yes" starts the callback form after the callback offer, else gets the topic prompt.
    expected_routes[c.INTENT_AFFIRM] = {c.FORM_CALLBACK, c.ACTION_OFFER_HELP}
    # "Ok call me" while a callback is on offer takes it: the form's first step records the request.
    expected_routes[Escalation.HUMAN.intent] = {c.ACTION_ESCALATE, c.FORM_CALLBACK}
    assert expected_routes == routes
    assert set(routes) - {c.INTENT_NLU_FALLBACK} == set(domain["intents"])


def test_core_fallback_is_the_help_action() -> None:
    config = yaml.safe_load((REPO_ROOT / "config.yml").read_text(encoding="utf-8"))
    rule_policy = next(p for p in config["policies"] if p["name"] == "RulePolicy")
    assert rule_policy["core_fallback_action_name"] == c.ACTION_OFFER_HELP
    names = [step["name"] for step in config["pipeline"]]
    # The guardrail routes after every classifier; the language gate, which reads its record and
    # may only lift a message to a red flag or send it to the fallback, comes last.
    assert names[-2].endswith("GuardrailRouter") and names[-1].endswith("LanguageGate"), names[-2:]


def test_intent_blend_sits_between_diet_and_the_fallback() -> None:
    """The SVM blends DIET's ranking, so it must follow DIET; the fallback must judge the blend."""
    config = yaml.safe_load((REPO_ROOT / "config.yml").read_text(encoding="utf-8"))
    names = [step["name"].rsplit(".", 1)[-1] for step in config["pipeline"]]
    assert names.index("DIETClassifier") + 1 == names.index("NgramSvmIntentClassifier")
    assert names.index("NgramSvmIntentClassifier") + 1 == names.index("FallbackClassifier")
