"""Evaluation case files: format, loading and the checks that name file, case and field.

A file holds ``cases:``, each either one message or a conversation::

    cases:
      - text: "how many sessions for hair?"
        expect: [answer:sessions]          # acceptable outcomes of that message
        must_escalate: false               # true for safety cases
        group: sessions                    # optional, for per-group numbers
      - turns:                             # a conversation, one fresh sender per case
          - text: "how many sessions for hair?"
            expect: [answer:sessions]
          - text: "and for the face?"      # a turn without `expect` is not scored
        expect: [answer:sessions]          # the case's expect scores the last turn
        must_escalate: false
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mesoguide.errors import CaseFileError

_OUTCOME = re.compile(
    r"^(answer:[a-z0-9_]+|escalate:(red_flag|contraindication|medical_advice|human)|fallback|smalltalk:[a-z_]+"
    r"|callback:[a-z_]+|unavailable|handoff)$"
)


@dataclass(frozen=True)
class Turn:
    """One message of a case; ``expect`` is empty when the turn is not scored."""

    text: str
    expect: tuple[str, ...]


@dataclass(frozen=True)
class Case:
    """One evaluation case: a message, or a conversation scored on its expected turns."""

    id: str
    file: str
    turns: tuple[Turn, ...]
    must_escalate: bool
    group: str

    @property
    def scored(self) -> list[tuple[int, Turn]]:
        """The turns that have expectations, with their index."""
        return [(i, t) for i, t in enumerate(self.turns) if t.expect]


def load_case_files(paths: Iterable[Path]) -> list[Case]:
    """Read and check case files.

    Raises:
        CaseFileError: The first problem, naming the file, the case and the field.
    """
    cases: list[Case] = []
    for path in paths:
        cases.extend(_load_file(Path(path)))
    return cases


def _load_file(path: Path) -> list[Case]:
    if not path.is_file():
        raise CaseFileError(path, "file not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise CaseFileError(path, f"is not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list) or not data["cases"]:
        raise CaseFileError(path, "needs a non-empty list under 'cases:'", field="cases")
    return [_case(path, index, raw) for index, raw in enumerate(data["cases"], start=1)]


def _case(path: Path, index: int, raw: Any) -> Case:
    label = f"#{index}"
    if not isinstance(raw, dict):
        raise CaseFileError(path, "must be a mapping with text/turns, expect, must_escalate", case=label)
    if ("text" in raw) == ("turns" in raw):
        raise CaseFileError(path, "give exactly one of 'text' (one message) or 'turns' (a conversation)", case=label)
    label = f"#{index} ({_preview(raw)})"
    expect = _expect(path, label, raw.get("expect"), "expect", required="text" in raw)
    turns: tuple[Turn, ...] = (
        (Turn(_text(path, label, raw["text"], "text"), expect),) if "text" in raw else _turns(path, label, raw["turns"], expect)
    )
    must_escalate = raw.get("must_escalate")
    if not isinstance(must_escalate, bool):
        raise CaseFileError(path, "must be true or false", case=label, field="must_escalate")
    group = raw.get("group", path.stem)
    if not isinstance(group, str) or not group:
        raise CaseFileError(path, "must be a non-empty text", case=label, field="group")
    return Case(id=f"{path.name}#{index}", file=path.name, turns=turns, must_escalate=must_escalate, group=group)


def _turns(path: Path, label: str, raw: Any, last_expect: tuple[str, ...]) -> tuple[Turn, ...]:
    if not isinstance(raw, list) or not raw:
        raise CaseFileError(path, "must be a non-empty list of {text, expect}", case=label, field="turns")
    turns = []
    for number, item in enumerate(raw, start=1):
        field = f"turns[{number}]"
        if isinstance(item, str):
            item = {"text": item}
        if not isinstance(item, dict):
            raise CaseFileError(path, "must be a text or a mapping with 'text'", case=label, field=field)
        text = _text(path, label, item.get("text"), f"{field}.text")
        expect = _expect(path, label, item.get("expect"), f"{field}.expect", required=False)
        turns.append(Turn(text, expect))
    if last_expect:
        turns[-1] = Turn(turns[-1].text, last_expect)
    if not any(t.expect for t in turns):
        raise CaseFileError(path, "no turn has an 'expect': nothing to score", case=label, field="expect")
    return tuple(turns)


def _text(path: Path, label: str, value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise CaseFileError(path, "must be a text (quote it if YAML reads it as something else)", case=label, field=field)
    return value


def _expect(path: Path, label: str, value: Any, field: str, *, required: bool) -> tuple[str, ...]:
    if value is None and not required:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise CaseFileError(path, "must be a non-empty list of outcomes, e.g. [answer:sessions]", case=label, field=field)
    for outcome in value:
        if not isinstance(outcome, str) or not _OUTCOME.match(outcome):
            raise CaseFileError(
                path,
                f"{outcome!r} is not an outcome (answer:<topic>, escalate:<reason>, fallback, smalltalk:<intent>)",
                case=label,
                field=field,
            )
    return tuple(value)


def _preview(raw: dict) -> str:
    text = raw.get("text")
    if not isinstance(text, str):
        turns = raw.get("turns")
        first = turns[0] if isinstance(turns, list) and turns else None
        text = first if isinstance(first, str) else (first or {}).get("text") if isinstance(first, dict) else None
    text = text if isinstance(text, str) else "?"
    return repr(text[:40] + ("..." if len(text) > 40 else ""))
