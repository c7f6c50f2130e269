"""Aspect cues (``knowledge/aspects.yml``): a question about one aspect of a treatment gets the
aspect's answer, the treatment's topic offered first; the file's checks."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.answer_topic import ActionAnswerTopic
from mesoguide import constants as c
from mesoguide.errors import KnowledgeError
from mesoguide.guardrail.matcher import GuardrailMatcher
from mesoguide.knowledge import KnowledgeBase, load_knowledge
from mesoguide.knowledge.aspects import asking_sentences
from tests.conftest import copy_knowledge, edit_yaml, make_tracker
from tests.unit.test_likely_topics import outcome_of


def asked(text: str, intent: str, matcher: GuardrailMatcher) -> Tracker:
    """A message the classifier put under ``intent``, with the router's record of it."""
    matches = matcher.match(text)
    tracker = make_tracker(text, intent, entities=[{"entity": m.entity, "value": m.value} for m in matches], confidence=0.8)
    tracker.latest_message[c.PARSE_KEY_GUARDRAIL] = {
        "matches": [{"entity": m.entity, "value": m.value, "text": m.text} for m in matches],
        "predicted_intent": intent, "ranking": [[intent, 0.8]], "has_content": True,
    }
    return tracker


def answer(kb: KnowledgeBase, matcher: GuardrailMatcher, tracker: Tracker) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionAnswerTopic(knowledge=kb, matcher=matcher).run(dispatcher, tracker, {}))
    [message] = dispatcher.messages
    return message, events


@pytest.mark.parametrize(
    ("text", "subject", "aspect"),
    [
        ("how many sessions for a double chin usually", "fat_reduction", "sessions"),
        ("cost of chin fat dissolving?", "fat_reduction", "cost"),
        ("hw much 4 under eye meso", "under_eye", "cost"),
        ("side effects of fat dissolving jabs on the belly", "fat_reduction", "side_effects"),
        ("Is there any downtime with needle-free mesotherapy?", "needle_free", "downtime"),
        ("Will the fat come back after fat dissolving?", "fat_reduction", "results_duration"),
        ("does hair meso hurt", "hair_loss", "pain"),
        ("My wedding is in June. How soon would I see a change in my pigmentation?", "pigmentation", "results_timing"),
        ("does the injection for a double chin sting much", "fat_reduction", "pain"),
        ("how long is the recovery from jawline fat dissolving", "fat_reduction", "downtime"),
        ("what's in the under eye meso cocktail?", "under_eye", "ingredients"),
        ("how many mesotherapy treatments for cellulite on the thighs", "cellulite", "sessions"),
        ("how long to see thicker hair with scalp meso", "hair_loss", "results_timing"),
    ],
)
def test_an_aspect_of_a_treatment_is_answered_with_the_treatment_offered_first(
    kb: KnowledgeBase, matcher: GuardrailMatcher, text: str, subject: str, aspect: str
) -> None:
    message, events = answer(kb, matcher, asked(text, f"ask_{subject}", matcher))
    assert outcome_of(events) == f"answer:{aspect}"
    assert message["buttons"][0]["payload"] == f"/ask_{subject}"
    assert {"event": "slot", "name": c.SLOT_CURRENT_TOPIC, "value": aspect, "timestamp": None} in events


@pytest.mark.parametrize(
    ("text", "subject"),
    [
        ("what is fat dissolving mesotherapy", "fat_reduction"),  # no aspect named
        ("how many sessions and how much for hair meso?", "hair_loss"),  # two aspects: the classifier's topic
        # The price is in a statement; the question asks about the treatments.
        ("The price list has a mesoglow and a mesolift. Whats the difference between them?", "face_rejuvenation"),
        ("Do you treat stretch marks on the tummy? How much better do they actually get?", "stretch_marks"),
        ("is the costume party ok", "hair_loss"),  # whole words only: "costume" is not "cost"
        # "ingredients" alone is not a cue: here it asks how the treatment works.
        ("Is needle-free meso a real option, and how does it get the ingredients into the skin?", "needle_free"),
        ("can it help with neck pain or is it only for lines", "skin_tightening"),  # "pain" alone is not a cue
    ],
)
def test_the_classifiers_topic_stands_without_exactly_one_aspect_asked(
    kb: KnowledgeBase, matcher: GuardrailMatcher, text: str, subject: str
) -> None:
    assert kb.aspects.aspect_asked(subject, text) is None
    assert outcome_of(answer(kb, matcher, asked(text, f"ask_{subject}", matcher))[1]) == f"answer:{subject}"


def test_only_a_treatment_topic_gives_way_to_an_aspect(kb: KnowledgeBase) -> None:
    assert kb.aspects.aspect_asked("effectiveness", "how much does it cost and does it work") is None
    assert kb.aspects.aspect_asked("fat_reduction", "how much does fat dissolving cost") == "cost"


def test_an_aspect_never_answers_what_must_be_escalated(kb: KnowledgeBase, matcher: GuardrailMatcher) -> None:
    tracker = asked("I'm on warfarin, how many sessions of fat dissolving would I need?", "ask_fat_reduction", matcher)
    assert outcome_of(answer(kb, matcher, tracker)[1]) == "escalate:contraindication"


def test_asking_sentences_are_questions_or_the_whole_message() -> None:
    assert asking_sentences("I saw the price list. How does it work?") == ["How does it work?"]
    assert asking_sentences("I saw the price list. how does it work") == ["how does it work"]
    assert asking_sentences("price of hair meso") == ["price of hair meso"]
    assert asking_sentences("Nice clinic. Price of hair meso please.") == ["Nice clinic.", "Price of hair meso please."]


# --- the file's checks -------------------------------------------------------------------------


def test_the_file_is_optional(tmp_path: Path) -> None:
    k = copy_knowledge(tmp_path)
    (k / "aspects.yml").unlink()
    assert load_knowledge(k).aspects.aspect_asked("fat_reduction", "how much does it cost") is None


def test_an_unknown_topic_is_named(tmp_path: Path) -> None:
    k = copy_knowledge(tmp_path)
    edit_yaml(k / "aspects.yml", lambda d: d["aspects"].append({"topic": "parking", "cues": ["car park"]}))
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(k)
    assert (caught.value.path.name, caught.value.entry, caught.value.field) == ("aspects.yml", "parking", "topic")


def test_a_subject_cannot_be_an_aspect(tmp_path: Path) -> None:
    k = copy_knowledge(tmp_path)
    edit_yaml(k / "aspects.yml", lambda d: d["aspects"].append({"topic": "hair_loss", "cues": ["thinning"]}))
    with pytest.raises(KnowledgeError, match="listed as a subject"):
        load_knowledge(k)


def test_an_unknown_subject_is_named(tmp_path: Path) -> None:
    k = copy_knowledge(tmp_path)
    edit_yaml(k / "aspects.yml", lambda d: d["subjects"].append("tattoos"))
    with pytest.raises(KnowledgeError, match="unknown topic 'tattoos'"):
        load_knowledge(k)


def test_a_cue_in_two_aspects_is_named_with_both(tmp_path: Path) -> None:
    k = copy_knowledge(tmp_path)
    edit_yaml(k / "aspects.yml", lambda d: d["aspects"][1]["cues"].append("How much is"))
    with pytest.raises(KnowledgeError, match="'How much is' is listed twice \\(also under 'cost'\\)"):
        load_knowledge(k)
