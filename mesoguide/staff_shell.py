"""The staff conversation shell with the decision view.

Clinic staff chat with the assistant as a patient would (over the REST channel of a running
stack) and, after each reply, see one line saying why it answered that way::

    ▸ intent ask_sessions 0.93 | guardrail: - | entities: treatment_area=scalp
      | outcome answer:sessions | knowledge: knowledge/topics/sessions.yml#variants.scalp

Buttons are shown as numbered options; typing the number sends the button (no arrow-key menu,
unlike ``rasa shell``). ``--transcript FILE`` saves messages, replies and decision lines for
review (Markdown, or JSON lines if FILE ends in ``.jsonl``).

CLI::

    python -m mesoguide.staff_shell                      # starts its own stack (build/staff-shell)
    python -m mesoguide.staff_shell --url http://127.0.0.1:5005 --token TOKEN   # a running `make run`
    python -m mesoguide.staff_shell --transcript build/staff/session.md
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlparse

from mesoguide.client import LiveAssistant
from mesoguide.constants import (
    ANSWER_PREFIX,
    ENTITY_TREATMENT_AREA,
    ESCALATE_PREFIX,
    INTENT_INFORM_AREA,
    OUTCOME_FALLBACK,
    PARSE_KEY_GUARDRAIL,
    PARSE_KEY_LANGUAGE,
    SLOT_TREATMENT_AREA,
    SLOT_TURN_OUTCOME,
    SMALLTALK_PREFIX,
)
from mesoguide.knowledge import KnowledgeBase, default_knowledge
from mesoguide.language.identify import ENGLISH
from mesoguide.language.rail import LanguageVerdict
from mesoguide.paths import REPO_ROOT
from mesoguide.stack import Stack, StackConfig, isolated_config

QUIT_WORDS = ("/quit", "/exit")


@dataclass
class Decision:
    """Why the assistant replied as it did in one turn (read from the tracker)."""

    intent: str | None
    confidence: float | None
    classifier_intent: str | None
    routed: bool
    guardrail_terms: list[str] = field(default_factory=list)
    entities: list[str] = field(default_factory=list)
    outcome: str | None = None
    knowledge: list[str] = field(default_factory=list)
    language: str | None = None  # "tr (detector; red flags tr:fever_chills)" when not English


@dataclass
class StaffTurn:
    """One message of the staff member, the replies and the decision."""

    message: str
    sent: str
    replies: list[dict[str, Any]]
    decision: Decision
    seconds: float


def decision_from_tracker(tracker: dict[str, Any], kb: KnowledgeBase) -> Decision:
    """The decision of the latest turn in a tracker (as ``GET /conversations/<id>/tracker`` gives it)."""
    events = tracker.get("events") or []
    last_user = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=-1)
    parse = (events[last_user].get("parse_data") or {}) if last_user >= 0 else {}
    intent = parse.get("intent") or {}
    guardrail = parse.get(PARSE_KEY_GUARDRAIL) or {}
    outcomes = [
        e.get("value") for e in events[last_user + 1 :] if e.get("event") == "slot" and e.get("name") == SLOT_TURN_OUTCOME
    ]
    outcome = outcomes[-1] if outcomes else None
    terms = [f'{m.get("entity")}:{m.get("value")} ("{m.get("text")}")' for m in guardrail.get("matches") or []]
    entities = [f"{e.get('entity')}={e.get('value')}" for e in parse.get("entities") or []]
    area = (tracker.get("slots") or {}).get(SLOT_TREATMENT_AREA)
    matches = guardrail.get("matches") or []
    return Decision(
        intent=intent.get("name"),
        confidence=intent.get("confidence"),
        classifier_intent=guardrail.get("predicted_intent"),
        routed=bool(guardrail.get("routed")),
        guardrail_terms=terms,
        entities=entities,
        outcome=outcome,
        knowledge=knowledge_used(outcome, intent.get("name"), area, matches, kb),
        language=_language(parse.get(PARSE_KEY_LANGUAGE)),
    )


def _language(record: Any) -> str | None:
    """What the language rail saw, when it saw more than English."""
    verdict = LanguageVerdict.from_record(record)
    if verdict.code == ENGLISH and not verdict.red_flags:
        return None
    flags = ", ".join(f"{m.language}:{m.value}" for m in verdict.red_flags)
    return f"{verdict.code} ({verdict.reason}" + (f"; red flags {flags})" if flags else ")")


def knowledge_used(
    outcome: str | None, intent: str | None, area: str | None, matches: list[dict[str, Any]], kb: KnowledgeBase
) -> list[str]:
    """The knowledge entries a turn's reply came from (file#path, vocabulary ids)."""
    if not outcome:
        return []
    if outcome.startswith(ANSWER_PREFIX):
        topic_id = outcome[len(ANSWER_PREFIX) :]
        topic = kb.topics.get(topic_id)
        part = f"variants.{area}" if topic is not None and area in topic.variants else "answer"
        return [f"knowledge/topics/{topic_id}.yml#{part}"]
    if outcome.startswith(ESCALATE_PREFIX):
        reason = outcome[len(ESCALATE_PREFIX) :]
        vocab = sorted(
            {f"vocabulary {m.get('entity')}:{m.get('value')}" for m in matches if m.get("entity") != ENTITY_TREATMENT_AREA}
        )
        return [f"knowledge/messages.yml#escalation.{reason}", *vocab]
    if outcome.startswith(SMALLTALK_PREFIX):
        return [f"knowledge/messages.yml#smalltalk.{outcome[len(SMALLTALK_PREFIX) :]}"]
    if outcome == OUTCOME_FALLBACK:
        return ["knowledge/messages.yml#" + ("area_prompt" if intent == INTENT_INFORM_AREA else "fallback")]
    return []


def format_decision(decision: Decision) -> str:
    """The one readable line the staff view prints after each reply."""
    confidence = f" {decision.confidence:.2f}" if isinstance(decision.confidence, (int, float)) else ""
    intent = f"intent {decision.intent or '-'}{confidence}"
    if decision.routed:
        intent += f" (classifier said {decision.classifier_intent}; routed by the guardrail)"
    parts = [
        intent,
        "guardrail: " + (", ".join(decision.guardrail_terms) or "-"),
        "entities: " + (", ".join(decision.entities) or "-"),
        f"outcome {decision.outcome or '-'}",
        "knowledge: " + (", ".join(decision.knowledge) or "-"),
        *([f"language {decision.language}"] if decision.language else []),
    ]
    return "▸ " + " | ".join(parts)


def reply_lines(replies: list[dict[str, Any]]) -> list[str]:
    """The bot's replies as text, buttons numbered from 1 across the turn."""
    lines: list[str] = []
    number = 0
    for reply in replies:
        if reply.get("text"):
            lines.append(f"Bot: {reply['text']}")
        for button in reply.get("buttons") or []:
            number += 1
            lines.append(f"  [{number}] {button.get('title')}")
    return lines


def turn_buttons(replies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [b for r in replies for b in r.get("buttons") or []]


class Transcript:
    """Saves a staff session: Markdown for reading, JSON lines (``.jsonl``) for tools."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.jsonl = path.suffix == ".jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: TextIO = path.open("w", encoding="utf-8")
        if not self.jsonl:
            self._file.write(f"# MesoGuide staff test session, {time.strftime('%Y-%m-%d %H:%M:%S %Z')}\n\n")

    def add(self, turn: StaffTurn) -> None:
        if self.jsonl:
            self._file.write(json.dumps({**asdict(turn)}, ensure_ascii=False) + "\n")
        else:
            sent = f" (sent `{turn.sent}`)" if turn.sent != turn.message else ""
            self._file.write(f"**Staff:** {turn.message}{sent}\n\n")
            for line in reply_lines(turn.replies):
                self._file.write(f"> {line}\n>\n")
            self._file.write(f"\n`{format_decision(turn.decision)}`\n\n---\n\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()


class StaffShell:
    """The read-eval-print loop over a running stack.

    Args:
        assistant: Client of the running Rasa server (REST + tracker).
        kb: The knowledge base (to name the entries a reply came from).
        out: Where to print.
        transcript: Where to save the session, if anywhere.
    """

    def __init__(
        self, *, assistant: LiveAssistant, kb: KnowledgeBase, out: TextIO = sys.stdout, transcript: Transcript | None = None
    ) -> None:
        self.assistant = assistant
        self.kb = kb
        self.out = out
        self.transcript = transcript
        self.sender = f"staff-{uuid.uuid4().hex[:10]}"
        self._buttons: list[dict[str, Any]] = []

    def send(self, message: str) -> StaffTurn:
        """Sends a message (a bare number picks an offered button) and reads the decision."""
        sent = message
        if message.strip().isdigit() and 1 <= int(message.strip()) <= len(self._buttons):
            sent = str(self._buttons[int(message.strip()) - 1].get("payload"))
        started = time.perf_counter()
        status, replies = self.assistant.post("/webhooks/rest/webhook", {"sender": self.sender, "message": sent})
        seconds = time.perf_counter() - started
        if status != 200 or not isinstance(replies, list):
            raise RuntimeError(f"the Rasa server answered {status}: {replies}")
        decision = decision_from_tracker(self.assistant.tracker(self.sender), self.kb)
        self._buttons = turn_buttons(replies)
        return StaffTurn(message=message, sent=sent, replies=replies, decision=decision, seconds=seconds)

    def run(self, stdin: TextIO = sys.stdin) -> int:
        """Reads messages until /quit or end of input."""
        interactive = stdin.isatty()
        self._print(f"MesoGuide staff shell (conversation {self.sender}). Type a message; a number picks a button; /quit ends.")
        while True:
            if interactive:
                self.out.write("Your input -> ")
                self.out.flush()
            line = stdin.readline()
            if not line:
                break
            message = line.rstrip("\n")
            if message.strip() in QUIT_WORDS:
                break
            if not interactive:
                self._print(f"Your input -> {message}")
            try:
                turn = self.send(message)
            except (RuntimeError, AssertionError, OSError) as exc:
                self._print(f"error: {exc}")
                continue
            for text in reply_lines(turn.replies):
                self._print(text)
            self._print(format_decision(turn.decision))
            if self.transcript is not None:
                self.transcript.add(turn)
        if self.transcript is not None:
            self.transcript.close()
            self._print(f"transcript saved: {self.transcript.path}")
        return 0

    def _print(self, text: str) -> None:
        print(text, file=self.out, flush=True)


def _config_for(url: str, token: str) -> StackConfig:
    parsed = urlparse(url)
    if not parsed.hostname or not parsed.port:
        raise SystemExit(f"--url needs host and port, e.g. http://127.0.0.1:5005 (got {url!r})")
    return StackConfig(
        model=REPO_ROOT / "models",
        endpoints=REPO_ROOT / "endpoints.yml",
        credentials=REPO_ROOT / "build" / "credentials.yml",
        host=parsed.hostname,
        rasa_port=parsed.port,
        auth_token=token,
    )


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    parser = argparse.ArgumentParser(prog="python -m mesoguide.staff_shell", description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="a running Rasa server (default: start one on free ports)")
    parser.add_argument("--token", default=os.environ.get("RASA_AUTH_TOKEN"), help="its API token (default: $RASA_AUTH_TOKEN)")
    parser.add_argument("--transcript", type=Path, help="save the session here (.md, or .jsonl for JSON lines)")
    args = parser.parse_args(argv)
    kb = default_knowledge()
    transcript = Transcript(args.transcript) if args.transcript else None
    if args.url:
        if not args.token:
            parser.error("--url needs --token (or RASA_AUTH_TOKEN): the decision view reads the tracker")
        return StaffShell(assistant=LiveAssistant(_config_for(args.url, args.token)), kb=kb, transcript=transcript).run()
    directory = REPO_ROOT / "build" / "staff-shell"
    directory.mkdir(parents=True, exist_ok=True)
    print("starting the action server and the Rasa server ...", file=sys.stderr, flush=True)
    try:
        with Stack(isolated_config(directory)) as stack:
            return StaffShell(assistant=LiveAssistant(stack.config), kb=kb, transcript=transcript).run()
    except RuntimeError as exc:
        print(f"start-up failed: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
