"""The guardrail matcher on the real vocabularies: lowercase, lemma based, multi-word aware."""

from __future__ import annotations

import pytest

from mesoguide import constants as c
from mesoguide.guardrail.matcher import GuardrailMatcher
from mesoguide.knowledge import KnowledgeBase
from mesoguide.knowledge.reading import AGE_SLOT, FEVER_SLOT


def found(matcher: GuardrailMatcher, text: str) -> set[tuple[str, str]]:
    return {(m.entity, m.value) for m in matcher.match(text)}


def test_every_vocabulary_term_matches_itself(kb: KnowledgeBase, matcher: GuardrailMatcher) -> None:
    """A term that tokenizes into something the pipeline cannot match is a silent hole."""
    dead = []
    for entry in kb.vocabulary:
        for term in entry.terms:
            matches = matcher.match(f"well, {term.replace(AGE_SLOT, '47').replace(FEVER_SLOT, '38.5')} here")
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
        ("ich nehme Marcumar, is mesotherapy ok?", ("contraindication", "anticoagulant")),  # German brand
        ("tomo sintrom desde hace años", ("contraindication", "anticoagulant")),  # Spanish brand
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
        ("I have MS, would fat dissolving be safe?", ("contraindication", "autoimmune_disease")),
        ("i tend to get keloids", ("contraindication", "keloid")),
        ("I'm 16 years old", ("contraindication", "under_18")),
        ("there is pus coming out", ("red_flag", "pus_discharge")),
        ("the bump on my thigh started to drain", ("red_flag", "pus_discharge")),
        ("the spot on my arm is black in the centre", ("red_flag", "skin_colour_change")),
        ("a week on it hurts more than the first day", ("red_flag", "severe_pain")),
        ("now after 3 days it is very very painful and more every day", ("red_flag", "worse_day_by_day_near")),
        ("I had laser on both cheeks last week", ("contraindication", "recent_procedure_with_time")),
        ("i just got threads in my jawline", ("contraindication", "recent_procedure_just_done")),
        ("I just did microneedling on Monday, is that a problem?", ("contraindication", "recent_procedure_just_done")),
        ("my cheek aches more today than it did the day after", ("red_flag", "severe_pain")),
        ("the lump was small and now it's the size of a walnut", ("red_flag", "lump_growing_hardening")),
        ("her knee pain went away for a day and now it's much worse", ("red_flag", "worse_now_than_before_near")),
        ("should I get a top up now or wait until spring?", ("medical_advice", "treatment_plan")),
        ("I have a fever since the treatment", ("red_flag", "fever_chills")),
        ("my lips are swelling up", ("red_flag", "face_throat_swelling")),
        ("what do i have on my cheek?", ("medical_advice", "own_diagnosis")),
        ("are these spots sun damage?", ("medical_advice", "own_diagnosis")),
        ("who shouldn't have it done?", ("contraindication", "general_contraindication_question")),
        ("is there anyone who shouldnt get meso", ("contraindication", "general_unsuitability_question")),
        ("are some people not allowed to have it?", ("contraindication", "general_unsuitability_question")),
        ("which people is mesotherapy not recommended for", ("contraindication", "general_unsuitability_question")),
        ("is it unsafe for some patients?", ("contraindication", "general_unsuitability_question")),
        ("in what cases is meso not recommended?", ("contraindication", "general_situation_risk_question")),
        ("what health conditions make it a bad idea", ("contraindication", "general_situation_risk_question")),
        ("any contraindications?", ("contraindication", "general_contraindication_question")),
        ("when I cut myself the scar goes thick", ("contraindication", "keloid")),
        ("I get scars that grow bigger than the original wound", ("contraindication", "keloid_described")),
        ("my scars keep growing past the cut", ("contraindication", "keloid_described")),
        ("I'm a kidney transplant patient", ("contraindication", "immunosuppressant")),
        ("there's a bump on my jaw and it keeps growing", ("red_flag", "it_is_growing")),
        ("the nodule on my cheek is growing", ("red_flag", "lump_growing_hardening")),  # near rule
        ("I'm 85 and my skin is thin", ("contraindication", "age_stated")),  # <age> slot
        ("temperature of 102 after lipodissolve", ("red_flag", "fever_chills")),  # <fever> slot, Fahrenheit
        ("thermometer says 38.9 since the session", ("red_flag", "fever_chills")),  # <fever> slot, decimals
        ("temp is 39c tonight", ("red_flag", "fever_chills")),  # <fever> slot, unit letter
        ("my mum is 72, can she have it on her hands?", ("contraindication", "age_stated")),
        ("a 65-year-old asking about neck meso", ("contraindication", "age_stated")),
        ("which illnesses make it dangerous?", ("contraindication", "condition_risk_question")),
        ("is the dark patch on my cheek melasma or sun damage?", ("medical_advice", "own_diagnosis_either_or_far")),
        ("is it better for me to go weekly or every two weeks?", ("medical_advice", "treatment_plan_better_for_me")),
        ("I have knee osteoarthritis, would meso help me?", ("medical_advice", "own_condition_would_it_help")),
        ("been diagnosed with lipedema last year, would it work for my legs", ("medical_advice", "own_condition_would_it_help")),
        ("the pain is so bad I cannot sleep", ("red_flag", "severe_pain_near")),
        ("my chin is without feeling since the injection", ("red_flag", "numbness_not_going_away")),
        ("can I have it while nursing?", ("contraindication", "breastfeeding")),
        ("my hair comes out in a bald patch, what is it?", ("medical_advice", "own_diagnosis_what_is_it")),
        ("mesolift or mesoglow for me?", ("medical_advice", "treatment_choice_for_me")),
        ("what rules someone out?", ("contraindication", "general_contraindication_question")),
        ("brown patches that get darker in summer. Is it melasma?", ("medical_advice", "own_diagnosis_is_it")),
        ("does that sound like androgenetic alopecia?", ("medical_advice", "own_diagnosis_is_it")),
        ("would a higher dose work faster on my cellulite?", ("medical_advice", "personal_dose_near")),
        ("are the lines on my forehead wrinkles or dehydration?", ("medical_advice", "own_diagnosis_either_or_far")),
        ("since the session I feel no air and my chest is hurting", ("red_flag", "breathing_difficulty")),
        ("since the session my chest is hurting", ("red_flag", "chest_pain_heart")),
        ("my hair is falling out in patches where they injected", ("red_flag", "bald_patches_after_treatment")),
        ("my hair transplant was four months ago, is scalp meso ok yet", ("contraindication", "recent_transplant_months")),
        ("there are raw patches where the bumps used to be", ("red_flag", "blisters_sores")),
        ("I had a reaction to tear trough filler once, are boosters different?", ("contraindication", "prior_reaction_near")),
        ("my jawline has dropped, would meso tighten mine?", ("medical_advice", "own_concern_personal_verdict")),
        ("lots of sagging since the weight loss, am I too far gone", ("medical_advice", "own_concern_personal_verdict")),
        ("is it melasma or just freckles?", ("medical_advice", "own_diagnosis_either_or")),
        ("are these stretch marks or scars", ("medical_advice", "own_diagnosis_either_or")),
        ("would you turn anyone away from mesotherapy?", ("contraindication", "general_contraindication_question")),
        ("I've got alopecia areata on my scalp, would scalp meso help?", ("medical_advice", "own_alopecia_areata")),
        ("since the injections the vision in my left eye is foggy", ("red_flag", "vision_change_in_my_eye_near")),
        ("my vision is hazy since the under eye session", ("red_flag", "vision_change")),
        ("there are tiny fluid bubbles on my lip since the meso", ("red_flag", "blisters_sores")),
        ("the ache in my hip has got much worse since the injections", ("red_flag", "worse_now_than_before_near")),
        ("after the meso my thigh is swollen and each day more big", ("red_flag", "worse_day_by_day_near")),
        ("two months of sessions every fortnight now, should I go more often?", ("medical_advice", "treatment_plan")),
        ("I have lymphoedema in both legs, would the injections work for me?", ("medical_advice", "own_condition_would_it_help")),
        ("my hair feels thinner than before the course, is that normal for my hair?", ("medical_advice", "own_result_normal")),
        ("I missed my second appointment last week, should I restart?", ("medical_advice", "missed_own_session")),
        ("can I take a sleeping pill the night before?", ("medical_advice", "medicine_decision_near")),
        ("should I put hydrocortisone on the bumps afterwards?", ("medical_advice", "topical_medicine_decision")),
    ],
)
def test_matches(matcher: GuardrailMatcher, text: str, expected: tuple[str, str]) -> None:
    assert expected in found(matcher, text)


@pytest.mark.parametrize(
    "text",
    [
        "is swelling normal after mesotherapy?",
        "is it normal for the skin to look a bit dull for a few days after meso?",
        "if you miss a session does the course have to start again?",
        "can I use my usual moisturiser that evening?",
        "can I put my vitamin C serum on the night after?",
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
        "I'm 3 sessions in, when will I see results?",  # one digit: not an age
        "a session takes 30 minutes, right?",
        "is mesotherapy dangerous?",  # the safety FAQ; only condition words make it a contraindication
        "is it good for melasma or sun spots?",
        "will the pain be too strong?",
        "will the numbness go away?",
        "can I talk to a nurse or a doctor?",
        "is it for men or women?",
        "is it good for melasma?",
        "is it effective on stretch marks?",
        "is it better than lymphatic drainage for cellulite?",  # "drain" only as a discharge verb
        "is meso more painful than botox?",  # a comparison, not pain growing
        "is the pain worse with fat dissolving than with face meso?",  # a comparison, not in time
        "I just had my meso injections, what should I avoid now?",  # aftercare
        "my hair is black, does meso work on dark hair?",
        "what should people avoid after mesotherapy?",  # aftercare, not who is unsuitable
        "can it help back pain in general?",
        "when is it not recommended to wear make-up after a session?",
        "who performs the injections, a doctor or a nurse?",
        "is it for people who want quick results?",
        "the swelling goes down a bit more every day, is that normal?",  # healing, not worsening
        "does Ms Jones do the injections herself?",  # "ms" as a title is not the disease
        "what if someone has a reaction to the cocktail?",  # a general question, not a past reaction
        "can meso tighten sagging skin?",  # names no one's own concern
        "how long after a hair transplant can people have scalp meso?",  # no time of the patient's own
        # An either-or diagnosis pairs "is it" before the concern only (``in_order``).
        "does facial meso help with fine lines or is it more of a hydration glow thing?",
        "does meso do anything for acne scars or is it only for wrinkles",
        # The time comes first (``in_order``): "just don't" shares the lemma of "just did".
        "I'm against surgery, I just don't like the idea. What are the advantages of meso?",
        "how often do people usually get a top up?",
        "is a small lump the size of a pea normal after meso?",
        "is meso better than laser for pigmentation or are they for different things",
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


@pytest.mark.parametrize(
    "text", ["temperature of 36.8, all normal", "the room temp is 21", "temperature of 37 after the session, fine?"]
)
def test_a_normal_temperature_is_not_a_fever(matcher: GuardrailMatcher, text: str) -> None:
    assert ("red_flag", "fever_chills") not in found(matcher, text)
