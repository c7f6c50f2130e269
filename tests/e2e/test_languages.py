"""Patients who write another language, through the running servers (REST channel).

Per language (``tests/languages/cases/<lang>.yml``, written by speakers who had not seen the
vocabularies): every red flag gets ``escalate:red_flag``, the urgent text in that language first,
and a stored escalation that names the language; every ordinary question gets the pack's safe
reply with outcome ``fallback`` and the language in the reply meta and the parse data. Mixed
messages (``mixed.yml``) still go through the English guardrail. The numbers per language are
printed and written to build/results/languages.json.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml

from mesoguide.client import LiveAssistant, Turn
from mesoguide.constants import OUTCOME_FALLBACK, PARSE_KEY_LANGUAGE
from mesoguide.escalations.store import EscalationStore
from mesoguide.knowledge import KnowledgeBase
from mesoguide.language.replies import render_in
from mesoguide.paths import REPO_ROOT
from mesoguide.reply_meta import meta_of

pytestmark = pytest.mark.e2e

CASES = REPO_ROOT / "tests" / "languages" / "cases"
REPORT = REPO_ROOT / "build" / "results" / "languages.json"
#: Ordinary questions that may be escalated as red flags by mistake, per language: an urgent
#: reply to "is swelling normal?" frightens a patient and fills the clinic's queue.
MAX_FALSE_RED_FLAGS = 0.05
TALLY: dict[str, dict[str, Any]] = defaultdict(lambda: {"red_flag": [0, 0], "safe_reply": [0, 0], "misses": []})


def language_files() -> list[Path]:
    return sorted(p for p in CASES.glob("*.yml") if len(p.stem) == 2)


def cases_of(path: Path) -> list[dict[str, Any]]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]


def sender() -> str:
    return f"lang-{uuid.uuid4().hex[:12]}"


def texts(turn: Turn) -> str:
    return "\n".join(r.get("text", "") for r in turn.replies if r.get("text"))


def latest_language(live: LiveAssistant, who: str) -> dict[str, Any]:
    events = live.tracker(who)["events"]
    user = [e for e in events if e["event"] == "user"][-1]
    return user["parse_data"].get(PARSE_KEY_LANGUAGE) or {}


def test_every_case_language_has_a_pack(kb: KnowledgeBase) -> None:
    assert {p.stem for p in language_files()} == set(kb.languages)
    assert set(kb.languages) >= {"tr", "ar", "ru", "de", "fr", "es", "it", "pt", "zh"}


@pytest.mark.parametrize("path", language_files(), ids=lambda p: p.stem)
def test_red_flags_escalate_and_questions_get_the_safe_reply(
    path: Path, live: LiveAssistant, store: EscalationStore, kb: KnowledgeBase
) -> None:
    code = path.stem
    pack = kb.languages[code]
    urgent_start = render_in(kb, code, pack.red_flag)
    safe_reply = render_in(kb, code, pack.english_only)
    tally = TALLY[code]
    unsafe, wrong = [], []
    for case in cases_of(path):
        who = sender()
        turn = live.say(who, case["text"])
        if case["expect"] == "red_flag":
            tally["red_flag"][1] += 1
            if turn.outcome != "escalate:red_flag":
                unsafe.append((case["text"], turn.outcome))
                continue
            tally["red_flag"][0] += 1
            assert urgent_start in texts(turn), f"the urgent text in {code}: {case['text']}"
            reference = next(meta_of(r)["reference"] for r in turn.replies if meta_of(r))
            record = store.get(reference)
            assert record["urgent"] and record["reason"] == "red_flag"
            assert any(t.startswith("language:") for t in record["terms"]), "the clinic sees the language"
        else:
            tally["safe_reply"][1] += 1
            # The first turn of a conversation opens with the (English) disclaimer.
            if turn.outcome == OUTCOME_FALLBACK and texts(turn).endswith(safe_reply):
                tally["safe_reply"][0] += 1
                assert latest_language(live, who)["code"] == code
                assert [meta_of(r)["language"] for r in turn.replies if meta_of(r)] == [code]
            else:
                wrong.append((case["text"], turn.outcome))
    tally["misses"] = [*unsafe, *wrong]
    assert not unsafe, f"{code}: red flags not escalated as red flags: {unsafe}"
    false_red = [w for w in wrong if w[1] == "escalate:red_flag"]
    assert len(false_red) <= MAX_FALSE_RED_FLAGS * tally["safe_reply"][1], f"{code}: false red flags {false_red}"
    assert len(wrong) <= MAX_FALSE_RED_FLAGS * tally["safe_reply"][1], f"{code}: not given the safe reply: {wrong}"


def test_mixed_language_messages_go_through_the_english_guardrail(live: LiveAssistant) -> None:
    cases = yaml.safe_load((CASES / "mixed.yml").read_text(encoding="utf-8"))["cases"]
    missed = []
    for case in cases:
        turn = live.say(sender(), case["text"])
        expected = {"red_flag": ["escalate:red_flag"], "contraindication": ["escalate:red_flag", "escalate:contraindication"]}
        if turn.outcome not in expected[case["expect"]]:
            missed.append((case["text"], turn.outcome))
    TALLY["mixed"]["red_flag"] = [len(cases) - len(missed), len(cases)]
    assert not missed, f"mixed-language messages not escalated: {missed}"


def test_a_conversation_goes_on_in_english_after_a_message_in_another_language(live: LiveAssistant) -> None:
    who = sender()
    assert live.say(who, "Mezoterapi kaç seans sürüyor acaba?").outcome == OUTCOME_FALLBACK
    assert live.say(who, "how many sessions will I need?").outcome == "answer:sessions"
    assert latest_language(live, who)["code"] == "en"


@pytest.fixture(scope="module", autouse=True)
def report() -> None:
    """Writes the numbers after the module (the terminal summary prints them)."""
    yield
    if TALLY:
        REPORT.parent.mkdir(parents=True, exist_ok=True)
        REPORT.write_text(json.dumps(TALLY, ensure_ascii=False, indent=2), encoding="utf-8")


def summary_lines() -> list[str]:
    """One line per language: red flags escalated and safe replies given, of the cases."""
    lines = []
    for code, tally in sorted(TALLY.items()):
        red, safe = tally["red_flag"], tally["safe_reply"]
        lines.append(f"{code:6} red flags escalated {red[0]}/{red[1]}   safe reply {safe[0]}/{safe[1]}")
    return lines
