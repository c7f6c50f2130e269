"""The staff shell with the decision view, driven through stdin against the real stack."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from mesoguide.client import LiveAssistant
from mesoguide.knowledge import KnowledgeBase
from mesoguide.paths import REPO_ROOT

pytestmark = pytest.mark.e2e


def run_shell(live: LiveAssistant, lines: list[str], *extra: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "mesoguide.staff_shell", "--url", live.config.rasa_url, "--token", live.config.auth_token, *extra],
        input="\n".join(lines) + "\n",
        capture_output=True, text=True, timeout=300, cwd=REPO_ROOT,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def decision_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("▸ ")]


def test_decision_line_after_each_reply_and_markdown_transcript(live: LiveAssistant, kb: KnowledgeBase, tmp_path) -> None:
    transcript = tmp_path / "session.md"
    output = run_shell(
        live,
        ["How many sessions for hair?", "1", "I'm on warfarin, how long is the downtime?", "/quit", "never sent"],
        "--transcript", str(transcript),
    )
    decisions = decision_lines(output)
    assert len(decisions) == 3, output
    first, picked, escalated = decisions
    assert first.startswith("▸ intent ask_sessions ")
    assert "entities: treatment_area=scalp" in first
    assert "outcome answer:sessions" in first
    assert "knowledge: knowledge/topics/sessions.yml#variants.scalp" in first
    # "1" picked the first numbered option of the answer.
    related = kb.topics["sessions"].related[0]
    assert f"  [1] {kb.topics[related].title}" in output
    assert f"outcome answer:{related}" in picked
    assert "guardrail: contraindication:" in escalated and "warfarin" in escalated
    assert "outcome escalate:contraindication" in escalated
    assert "knowledge: knowledge/messages.yml#escalation.contraindication, vocabulary contraindication:" in escalated
    assert "never sent" not in output
    text = transcript.read_text(encoding="utf-8")
    assert "**Staff:** How many sessions for hair?" in text
    assert f"**Staff:** 1 (sent `/ask_{related}`)" in text
    assert text.count("`▸ intent") == 3
    assert kb.render(kb.topics["sessions"].variants["scalp"]) in text


def test_jsonl_transcript_and_routed_fallback(live: LiveAssistant, tmp_path) -> None:
    transcript = tmp_path / "session.jsonl"
    output = run_shell(live, ["pregnent??", "what's the weather in Paris?"], "--transcript", str(transcript))
    routed, fallback = decision_lines(output)
    assert "outcome escalate:contraindication" in routed
    assert "outcome fallback" in fallback and "knowledge/messages.yml#fallback" in fallback
    records = [json.loads(line) for line in transcript.read_text(encoding="utf-8").splitlines()]
    assert [r["message"] for r in records] == ["pregnent??", "what's the weather in Paris?"]
    assert records[0]["decision"]["outcome"] == "escalate:contraindication"
    assert records[1]["decision"]["knowledge"] == ["knowledge/messages.yml#fallback"]


def test_make_staff_shell_starts_its_own_stack(tmp_path) -> None:
    """The README command: `make staff-shell TRANSCRIPT=...` on free ports, stdin-driven."""
    transcript = tmp_path / "staff.md"
    result = subprocess.run(
        ["make", "--no-print-directory", "staff-shell", f"TRANSCRIPT={transcript}"],
        input="does mesotherapy hurt?\n",
        capture_output=True, text=True, timeout=600, cwd=REPO_ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (line,) = decision_lines(result.stdout)
    assert "outcome answer:pain" in line and "knowledge: knowledge/topics/pain.yml#answer" in line
    assert "**Staff:** does mesotherapy hurt?" in transcript.read_text(encoding="utf-8")
