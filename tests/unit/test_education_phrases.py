"""Education phrases: a vocabulary word inside a general education question does not escalate,
the same word said about the patient still does (knowledge/vocabularies/education_phrases.yml)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from mesoguide.errors import KnowledgeError
from mesoguide.guardrail.matcher import GuardrailMatcher
from mesoguide.knowledge import KnowledgeBase, load_knowledge
from tests.conftest import copy_knowledge


def guardrail(matcher: GuardrailMatcher, text: str) -> set[tuple[str, str]]:
    return {(m.entity, m.value) for m in matcher.guardrail_matches(text)}


@pytest.mark.parametrize(
    "text",
    [
        "is there a patch test or allergy test done before the first session usually",
        "do they do allergy testing at the consultation",
        "do you ask about medications and allergies at the first appointment",
        "can you be allergic to the meso cocktail",
        "is it possible to be allergic to the vitamins they inject",
        "is anaphylaxis possible with mesotherapy, statistically",
        "whats the risk of anaphylaxis from mesotherapy",
        "difference between atrophic and hypertrophic scars, which does it improve",
        "what medical conditions does mesotherapy treat apart from beauty stuff",
        "which medical conditions is it used for besides cosmetic ones",
        "tiny scabs on my forehead the day after meso, is that normal",
        "do mesotherapy cocktails contain hormones or prescription drugs",
        "do the cocktails ever have prescription medicine in them",
        "is there any minoxidil or finasteride in it or only vitamins",
        "why would a clinic add finasteride to the hair cocktail",
        "can meso treat active breakouts, or is it only for the marks they leave behind?",
        "I have had these marks on my hips since I was a teenager. Can mesotherapy make stretch marks less visible?",
        "my skin has been oily since my teens, does meso do anything for large pores",
        "I had spots all through my teens and the marks stayed, can meso help with them?",
        "back in my teens I got stretch marks on my hips, can they be treated?",
        "do some hair cocktails include finasteride?",
        "does the scalp solution contain finasteride or only vitamins",
        "what is finasteride doing in the scalp mix?",
        "why would finasteride be included in a hair meso cocktail",
        "why would finasteride be added to a scalp mix at all",
        "is finasteride ever added to hair meso, or only vitamins?",
        "what does finasteride do when it's used in a hair cocktail?",
        "was meso originally used for medical problems before it was cosmetic?",
        "which medical conditions was mesotherapy originally developed to treat",
        "what medical conditions was it developed for back in the fifties",
    ],
)
def test_a_general_question_with_a_vocabulary_word_is_not_a_match(matcher: GuardrailMatcher, text: str) -> None:
    assert guardrail(matcher, text) == set()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I'm allergic to lidocaine, is there an allergy test?", ("contraindication", "allergy_local_anaesthetic")),
        ("my allergies are bad, do you do allergy testing", ("contraindication", "allergy_general")),
        ("I had anaphylaxis once, is anaphylaxis possible with meso?", ("contraindication", "allergy_general")),
        ("i get hypertrophic scars, is that a problem", ("contraindication", "keloid")),
        ("what medical conditions stop you having it", ("contraindication", "medical_condition_general")),
        ("I have medical conditions, can it treat them?", ("contraindication", "medical_condition_general")),
        ("can you be allergic to it? my lips swelled up after my session", ("red_flag", "face_throat_swelling")),
        ("I have a scab on my cheek, can I still have my session?", ("contraindication", "open_wound")),
        ("I take prescription drugs, does the mix contain prescription drugs too?", ("contraindication", "medication_general")),
        ("I have active breakouts right now, can meso treat active breakouts?", ("contraindication", "skin_flare")),
        ("I'm on finasteride, does the hair mix have finasteride in it too?", ("contraindication", "hair_loss_medicine")),
        ("I take finasteride, do you add finasteride to the cocktail as well?", ("contraindication", "hair_loss_medicine")),
        ("I'm a teenager, I've wanted this since I was a teenager, can I book?", ("contraindication", "under_18")),
        ("can you have mesotherapy as a teenager", ("contraindication", "under_18")),
        ("I've had eczema since I was a teenager, does that matter?", ("contraindication", "skin_flare")),
        ("I'm 16 and had acne all through my teens, can I have it?", ("contraindication", "under_18")),
        ("I take a pill that contains finasteride, can I have meso?", ("contraindication", "hair_loss_medicine")),
        ("I'm on a tablet that contains finasteride", ("contraindication", "hair_loss_medicine")),
        ("I take finasteride, what is finasteride doing in the cocktail then?", ("contraindication", "hair_loss_medicine")),
        ("I'm on finasteride tablets, why would finasteride be included in the mix?", ("contraindication", "hair_loss_medicine")),
        ("I take finasteride, is finasteride ever added to the mix as well?", ("contraindication", "hair_loss_medicine")),
        ("I take finasteride, what does finasteride do when it's used in meso?", ("contraindication", "hair_loss_medicine")),
        ("I have medical problems, was it first used in hospitals?", ("contraindication", "medical_condition_general")),
        ("I have medical conditions, was it developed for people like me?", ("contraindication", "medical_condition_general")),
    ],
)
def test_the_same_words_said_about_the_patient_still_match(matcher: GuardrailMatcher, text: str, expected) -> None:
    assert expected in guardrail(matcher, text)


def test_every_phrase_holds_a_vocabulary_match_it_cancels(kb: KnowledgeBase, matcher: GuardrailMatcher) -> None:
    """A phrase with no vocabulary word inside cancels nothing: it is dead weight or a typo.

    Read against a matcher without the phrases, each phrase must have a match of its own.
    """
    plain = GuardrailMatcher.from_knowledge(_without_phrases(kb))
    idle = [p for p in kb.education_phrases if not plain.guardrail_matches(p)]
    cancelled = [p for p in kb.education_phrases if matcher.guardrail_matches(p)]
    assert idle == []
    assert cancelled == []


def test_a_knowledge_base_without_the_file_matches_everything(tmp_path: Path) -> None:
    copy = copy_knowledge(tmp_path)
    (copy / "vocabularies" / "education_phrases.yml").unlink()
    assert load_knowledge(copy).education_phrases == ()


def test_a_malformed_file_names_the_field(tmp_path: Path) -> None:
    copy = copy_knowledge(tmp_path)
    (copy / "vocabularies" / "education_phrases.yml").write_text("phrases: allergy test\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match="phrases"):
        load_knowledge(copy)


def _without_phrases(kb: KnowledgeBase) -> KnowledgeBase:
    return dataclasses.replace(kb, education_phrases=())
