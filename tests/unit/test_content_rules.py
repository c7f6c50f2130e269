"""The content rules of docs/product.md (no personal verdicts, doses or medicine advice; no marketing
claims), checked on every text we can send."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping

import pytest

from mesoguide.knowledge import KnowledgeBase
from mesoguide.paths import REPO_ROOT

SOURCES_DIR = REPO_ROOT.parent / "shared" / "sources"

# Marketing claims (docs/product.md), dose units and prices (safety rule 2, docs/product.md).
FORBIDDEN = {
    "promotional claim": re.compile(
        r"guarantee|excellent safety|(?<!not )risk[- ]free|\bno risk|completely safe|100 ?%|miracle|revolutionary", re.I
    ),
    "study percentage": re.compile(r"\d\s?%"),
    "price": re.compile(r"[$£€]\s?\d|\d\s?(usd|eur|gbp|dollars|pounds|euros)\b", re.I),
    "dose": re.compile(r"\b\d+(\.\d+)?\s?(mg|mcg|µg|ml|iu|units?)\b", re.I),
    # A personal verdict: "it is safe for you", "you are a good candidate", "you can stop ...".
    "personal verdict": re.compile(
        r"\b(it is|it's) (safe|suitable|fine|ok|okay) for you\b"
        r"|\byou are a (good|suitable) candidate\b"
        r"|\byou (can|should) (stop|start|skip|pause) (taking )?(your )?(medicine|medication|tablets|pills)",
        re.I,
    ),
}


def topic_texts(kb: KnowledgeBase) -> Iterator[tuple[str, str]]:
    """Every topic answer and area variant, named ``topics/<id>.answer`` / ``.variants.<area>``."""
    for topic in kb.topics.values():
        yield f"topics/{topic.id}.answer", topic.answer
        for area, text in topic.variants.items():
            yield f"topics/{topic.id}.variants.{area}", text


def message_texts(kb: KnowledgeBase) -> Iterator[tuple[str, str]]:
    """Every text of messages.yml, named ``messages.<field>[.<key>]``."""
    m = kb.messages
    for f in dataclasses.fields(m):
        value = getattr(m, f.name)
        if isinstance(value, str):
            yield f"messages.{f.name}", value
        elif isinstance(value, Mapping):
            for key, text in value.items():
                yield f"messages.{f.name}.{key}", text


def _all_texts(kb: KnowledgeBase) -> Iterator[tuple[str, str]]:
    yield from topic_texts(kb)
    yield from message_texts(kb)


@pytest.mark.parametrize("rule", sorted(FORBIDDEN))
def test_no_text_breaks_a_content_rule(kb: KnowledgeBase, rule: str) -> None:
    offending = [(where, FORBIDDEN[rule].search(text).group(0)) for where, text in _all_texts(kb) if FORBIDDEN[rule].search(text)]
    assert offending == []


def test_the_rules_catch_what_they_are_for() -> None:
    """The patterns above are not vacuous: each catches a sentence it exists for."""
    samples = {
        "promotional claim": "Results are guaranteed.",
        "study percentage": "Wrinkles fell by 18% in a study.",
        "price": "A session costs £150.",
        "dose": "We inject 2 ml of the cocktail.",
        "personal verdict": "With your history it is safe for you.",
    }
    assert all(FORBIDDEN[rule].search(text) for rule, text in samples.items())


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def test_nothing_copied_from_the_sources(kb: KnowledgeBase) -> None:
    """Facts carry over, sentences do not: no 10-word run of a source article in what we send."""
    if not SOURCES_DIR.is_dir():
        pytest.fail(f"source articles not found at {SOURCES_DIR} (../shared/sources beside the repo)")
    shingles: set[str] = set()
    for path in SOURCES_DIR.iterdir():
        words = _words(path.read_text(encoding="utf-8", errors="ignore"))
        shingles.update(" ".join(words[i : i + 10]) for i in range(len(words) - 9))
    copied = []
    for where, text in _all_texts(kb):
        words = _words(text)
        copied += [(where, " ".join(words[i : i + 10])) for i in range(len(words) - 9) if " ".join(words[i : i + 10]) in shingles]
    assert copied == []


def test_escalations_name_the_clinic_and_red_flags_the_emergency_number(kb: KnowledgeBase) -> None:
    for key, text in kb.messages.escalation.items():
        rendered = kb.render(text)
        assert kb.clinic.phone in rendered, key
    assert kb.clinic.emergency_number in kb.render(kb.messages.escalation["red_flag"])
    assert kb.clinic.emergency_number in kb.render(kb.messages.disclaimer)


def test_the_bot_says_it_is_automated(kb: KnowledgeBase) -> None:
    for text in (kb.messages.disclaimer, kb.messages.smalltalk["greet"], kb.messages.smalltalk["ask_is_bot"]):
        assert "automated assistant" in text


# --- the clinician-editor's review: routes at any hour, warning signs, what is injected ------

WARNING_SIGNS = (
    "redness or heat",
    "fever",
    "pus",
    "pain",
    "pale, blue or dark",
    "blisters",
    "hives",
    "vision",
    "lumps that appear later",
)
URGENT_ROUTES = ("{phone}", "{opening_hours}", "{out_of_hours_service}", "{out_of_hours_phone}", "{emergency_number}")


def test_red_flag_message_gives_a_route_at_any_hour(kb: KnowledgeBase) -> None:
    """Urgent signs at night must not end at a closed clinic: opening hours next to the clinic's
    phone, the out-of-hours route, and the emergency number for severe signs."""
    text = kb.messages.escalation["red_flag"]
    assert [p for p in URGENT_ROUTES if p not in text] == []
    rendered = kb.render(text)
    for value in (kb.clinic.phone, kb.clinic.opening_hours, kb.clinic.out_of_hours.phone, kb.clinic.emergency_number):
        assert value in rendered


@pytest.mark.parametrize("topic_id", ["side_effects", "complications", "under_eye"])
def test_risk_answers_list_the_warning_signs_and_every_route(kb: KnowledgeBase, topic_id: str) -> None:
    answer = kb.topics[topic_id].answer
    assert [sign for sign in WARNING_SIGNS if sign not in answer] == []
    assert [p for p in URGENT_ROUTES if p not in answer] == []
    assert "{" not in kb.render(answer)


# "Call us any time" where the clinic keeps opening hours: no text may promise that.
AVAILABILITY_PROMISE = re.compile(
    r"(call|reach|contact|phone|ring)[^.]{0,40}\b(any ?time|24/7|24 hours|round the clock|whenever)", re.I
)


def test_no_text_promises_availability_the_clinic_does_not_have(kb: KnowledgeBase) -> None:
    assert [(w, AVAILABILITY_PROMISE.search(t).group(0)) for w, t in _all_texts(kb) if AVAILABILITY_PROMISE.search(t)] == []
    # The clinic's phone always comes with the hours it is answered.
    assert [w for w, t in _all_texts(kb) if "{phone}" in t and "{opening_hours}" not in t and "opening hours" not in t] == []
    assert AVAILABILITY_PROMISE.search("You can reach us on {phone} any time you need.")


def test_goodbye_and_callback_confirmation_give_the_out_of_hours_route(kb: KnowledgeBase) -> None:
    for text in (kb.messages.smalltalk["goodbye"], kb.messages.callback["confirmed"]):
        assert "{out_of_hours_phone}" in text and "{opening_hours}" in text


def test_mixes_may_hold_prescription_medicines_and_hormones(kb: KnowledgeBase) -> None:
    """General education: what may be in a mix, what to ask, what to tell (never a verdict)."""
    answer = kb.topics["ingredients"].answer
    for words in ("prescription medicines", "hormones", "minoxidil", "finasteride", "tranexamic acid"):
        assert words in answer
    for where, text in [
        ("ingredients.answer", answer),
        *((f"ingredients.variants.{a}", v) for a, v in kb.topics["ingredients"].variants.items()),
        ("consultation.answer", kb.topics["consultation"].answer),
    ]:
        assert "what exactly will be injected" in text, where
        assert "medicines" in text, where
    assert "pregnant" in answer and "pregnant" in kb.topics["consultation"].answer


# Regulatory facts differ by country: a text that gives one says which country, and ends with the
# clinic's own regulator's note (empty unless clinic.yml sets one).
REGULATORY = re.compile(r"\bFDA\b|\bregulat|\bapproved\b|\blicensed\b", re.I)
COUNTRY = re.compile(r"United States|\bU\.S\.")


def test_regulatory_statements_name_their_country_and_end_with_the_clinic_note(kb: KnowledgeBase) -> None:
    regulatory = {w: t for w, t in topic_texts(kb) if REGULATORY.search(t)}
    assert {"topics/fat_reduction.answer", "topics/innovations.answer", "topics/ingredients.variants.body"} <= set(regulatory)
    assert [w for w, t in regulatory.items() if not COUNTRY.search(t)] == []
    assert [w for w, t in regulatory.items() if not t.endswith("{regulatory_note}")] == []
    assert [w for w, t in message_texts(kb) if REGULATORY.search(t)] == []


def test_topics_naming_regulated_products_give_their_regulatory_status(kb: KnowledgeBase) -> None:
    """Fat-dissolving drugs, exosomes and stem cells are named only next to their status."""
    products = re.compile(r"phosphatidylcholine|deoxycholic|fat-dissolving|exosome|stem cell", re.I)
    assert [w for w, t in topic_texts(kb) if products.search(t) and not REGULATORY.search(t)] == []
    assert "promising" not in kb.topics["innovations"].answer


def test_answers_carry_the_reviewed_safety_points(kb: KnowledgeBase) -> None:
    assert "autoimmune" in kb.topics["hair_loss"].answer and "doctor" in kb.topics["hair_loss"].answer
    assert "keloid" in kb.topics["acne_and_scars"].answer.lower()
    assert "checked by a doctor" in kb.topics["pigmentation"].answer


# Wording the sources do not support (the clinician-editor's list), and claims for one source.
UNSUPPORTED = re.compile(r"small study|most people feel only|most sources date|within one to three days", re.I)
MANY_SOURCES = re.compile(r"\b(the )?sources (say|name|mention|describe|give|list|differ)|\bsome studies\b", re.I)


def test_no_unsupported_wording(kb: KnowledgeBase) -> None:
    assert [(w, UNSUPPORTED.search(t).group(0)) for w, t in _all_texts(kb) if UNSUPPORTED.search(t)] == []
    single = [t for t in kb.topics.values() if len(t.sources) == 1]
    assert [t.id for t in single if any(MANY_SOURCES.search(x) for x in (t.answer, *t.variants.values()))] == []


def _session_range(text: str) -> tuple[str, str] | None:
    found = re.search(r"(\d+) to (\d+) sessions", text)
    return found.groups() if found else None


def test_numbers_agree_across_answers(kb: KnowledgeBase) -> None:
    """One guide's session ranges: each area variant, the general answer and the cellulite
    answer give the same numbers; every answer gives the same time for common reactions."""
    sessions = kb.topics["sessions"]
    for area, variant in sessions.variants.items():
        low, high = _session_range(variant) or ("?", "?")
        assert f"{low} to {high}" in sessions.answer, area
    assert _session_range(kb.topics["cellulite"].answer) == _session_range(sessions.variants["cellulite"])
    fade = re.compile(r"(?:fade|settle)\w* within ([^.,]+)")
    times = {w: m.group(1) for w, t in topic_texts(kb) for m in [fade.search(t)] if m}
    assert len(times) >= 4 and set(times.values()) == {"a few days"}, times


def test_areas_without_specific_information_are_named_honestly(kb: KnowledgeBase) -> None:
    """An area no topic has a variant for is named in the general sessions answer as one the
    sources give no numbers for, so "how many sessions for my neck?" is not answered as if known."""
    general = kb.topics["sessions"].answer.lower()
    missing = [
        a.id
        for a in kb.areas.values()
        if a.id not in kb.topics["sessions"].variants and not any(term.lower() in general for term in (a.label, *a.terms))
    ]
    assert missing == []
    assert "no numbers for other areas" in general
