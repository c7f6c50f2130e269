"""Content rules of SPEC §3 and DEVELOPERS.md safety rule 2, checked on every text we can send."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping

import pytest

from mesoguide.knowledge import KnowledgeBase
from mesoguide.paths import REPO_ROOT

SOURCES_DIR = REPO_ROOT.parent / "shared" / "sources"

# Marketing claims (SPEC §3), dose units and prices (safety rule 2, SPEC §3).
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


def _all_texts(kb: KnowledgeBase) -> Iterator[tuple[str, str]]:
    for topic in kb.topics.values():
        yield f"topics/{topic.id}.answer", topic.answer
        for area, text in topic.variants.items():
            yield f"topics/{topic.id}.variants.{area}", text
    m = kb.messages
    yield "messages.disclaimer", m.disclaimer
    yield "messages.callback_offer", m.callback_offer
    yield "messages.fallback", m.fallback
    yield "messages.area_prompt", m.area_prompt
    # Every other text of messages.yml (issue 5's reference and callback texts, ...).
    for f in dataclasses.fields(m):
        value = getattr(m, f.name)
        if isinstance(value, str) and f.name not in {"disclaimer", "callback_offer", "fallback", "area_prompt"}:
            yield f"messages.{f.name}", value
        elif isinstance(value, Mapping) and f.name not in {"escalation", "smalltalk"}:
            for key, text in value.items():
                yield f"messages.{f.name}.{key}", text
    for key, text in {**m.escalation, **m.smalltalk}.items():
        yield f"messages.{key}", text


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
        shingles.update(" ".join(words[i:i + 10]) for i in range(len(words) - 9))
    copied = []
    for where, text in _all_texts(kb):
        words = _words(text)
        copied += [(where, " ".join(words[i:i + 10])) for i in range(len(words) - 9) if " ".join(words[i:i + 10]) in shingles]
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
