"""The guardrail matcher on the real vocabularies: lowercase, lemma based, multi-word aware."""

from __future__ import annotations

import pytest

from mesoguide import constants as c
from mesoguide.guardrail.matcher import GuardrailMatcher
from mesoguide.knowledge import KnowledgeBase


def found(matcher: GuardrailMatcher, text: str) -> set[tuple[str, str]]:
    return {(m.entity, m.value) for m in matcher.match(text)}


def test_every_vocabulary_term_matches_itself(kb: KnowledgeBase, matcher: GuardrailMatcher) -> None:
    """A term that tokenizes into something the pipeline cannot match is a silent hole."""
    dead = []
    for entry in kb.vocabulary:
        for term in entry.terms:
            matches = matcher.match(f"well, {term} here")
            if not any(m.entity == entry.category for m in matches):
                dead.append((entry.id, term))
    assert dead == []


def test_every_area_term_matches_its_area(kb: KnowledgeBase, matcher: GuardrailMatcher) -> None:
    wrong = [
        (area.id, term)
        for area in kb.areas.values()
        for term in area.terms
        if (c.ENTITY_TREATMENT_AREA, area.id) not in found(matcher, f"what about {term}?")
        and not any(len(other.split()) > len(term.split()) and term in other for a in kb.areas.values() for other in a.terms)
    ]
    assert wrong == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I'm on WARFARIN", ("contraindication", "anticoagulant")),
        ("i take Eliquis daily", ("contraindication", "anticoagulant")),
        ("on xarelto since march", ("contraindication", "anticoagulant")),
        ("im on warfrin", ("contraindication", "anticoagulant")),  # misspelling
        ("I take blood-thinners", ("contraindication", "anticoagulant")),  # hyphen + plural lemma
        ("what about blood thinners", ("contraindication", "anticoagulant")),
        ("I'm on Plavix", ("contraindication", "antiplatelet")),
        ("currently on roaccutane", ("contraindication", "isotretinoin")),
        ("i take humira injections", ("contraindication", "biologic")),
        ("I'm Pregnant", ("contraindication", "pregnancy")),
        ("im pregnent", ("contraindication", "pregnancy")),
        ("still breastfeeding my baby", ("contraindication", "breastfeeding")),
        ("I'm allergic to lidocaine", ("contraindication", "allergy_local_anaesthetic")),
        ("i have a cold sore right now", ("contraindication", "cold_sore_herpes")),
        ("I have epilepsy", ("contraindication", "epilepsy")),
        ("i tend to get keloids", ("contraindication", "keloid")),
        ("I'm 16 years old", ("contraindication", "under_18")),
        ("there is pus coming out", ("red_flag", "pus_discharge")),
        ("I have a fever since the treatment", ("red_flag", "fever_chills")),
        ("my lips are swelling up", ("red_flag", "face_throat_swelling")),
        ("what do i have on my cheek?", ("medical_advice", "own_diagnosis")),
        ("are these spots sun damage?", ("medical_advice", "own_diagnosis")),
        ("who shouldn't have it done?", ("contraindication", "general_contraindication_question")),
        ("any contraindications?", ("contraindication", "general_contraindication_question")),
        ("when I cut myself the scar goes thick", ("contraindication", "keloid")),
        ("I'm a kidney transplant patient", ("contraindication", "immunosuppressant")),
        ("there's a bump on my jaw and it keeps growing", ("red_flag", "it_is_growing")),
        ("the nodule on my cheek is growing", ("red_flag", "lump_growing_hardening")),  # near rule
    ],
)
def test_matches(matcher: GuardrailMatcher, text: str, expected: tuple[str, str]) -> None:
    assert expected in found(matcher, text)


@pytest.mark.parametrize(
    "text",
    [
        "is swelling normal after mesotherapy?",
        "how long does bruising last?",
        "how does mesotherapy compare to botox?",
        "can I combine it with a chemical peel?",
        "does it help with alopecia areata?",
        "can it treat acne scars?",
        "is lidocaine cream used for numbing?",
        "can mesotherapy cause an allergic reaction?",
        "can I talk to a nurse?",
        "can I go back to work the next day?",
        "does it work on dark circles?",
        "is it used for osteoarthritis?",
        "what vitamins are in the cocktail?",
        "who is a good candidate for mesotherapy?",
        "is it suitable for men?",
        "meso or a hair transplant, which works better?",
        "will my hair keep growing after the course?",
        "how many sessions for cellulite on my thighs?",
    ],
)
def test_ordinary_questions_do_not_match(matcher: GuardrailMatcher, text: str) -> None:
    assert [m for m in matcher.match(text) if m.is_guardrail] == []


def test_overlapping_categories_are_both_kept(matcher: GuardrailMatcher) -> None:
    """A red flag must not vanish under a contraindication term (precedence needs both)."""
    entities = {m.entity for m in matcher.match("I'm pregnant and there is pus and a fever")}
    assert {c.ENTITY_RED_FLAG, c.ENTITY_CONTRAINDICATION} <= entities


def test_areas(matcher: GuardrailMatcher) -> None:
    assert (c.ENTITY_TREATMENT_AREA, "scalp") in found(matcher, "sessions for my Hair?")
    assert (c.ENTITY_TREATMENT_AREA, "under_eye") in found(matcher, "dark circles")
    assert found(matcher, "my double chin") == {(c.ENTITY_TREATMENT_AREA, "body")}


def test_match_reports_the_patients_own_words(matcher: GuardrailMatcher) -> None:
    [match] = [m for m in matcher.match("Taking XARELTO now") if m.is_guardrail]
    assert match.text == "XARELTO" and (match.start, match.end) == (7, 14)
