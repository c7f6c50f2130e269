"""The evaluation instrument: case files are checked, and the metrics count what they claim."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mesoguide.errors import CaseFileError
from mesoguide.evaluation.cases import Case, Turn, load_case_files
from mesoguide.evaluation.metrics import compute, scored_turns
from mesoguide.evaluation.report import write_report
from mesoguide.evaluation.runner import CaseResult


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cases.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_loads_single_and_multi_turn_cases(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """cases:
  - text: "does it hurt?"
    expect: [answer:pain]
    must_escalate: false
  - turns:
      - text: "sessions for hair?"
        expect: [answer:sessions]
      - "and for the face?"
    expect: [answer:sessions]
    must_escalate: false
    group: carry_over
""",
    )
    single, multi = load_case_files([path])
    assert single.turns == (Turn("does it hurt?", ("answer:pain",)),) and single.group == "cases"
    assert [t.expect for t in multi.turns] == [("answer:sessions",), ("answer:sessions",)]
    assert multi.group == "carry_over"


@pytest.mark.parametrize(
    ("body", "case", "field"),
    [
        ("cases: []", None, "cases"),
        ('cases:\n  - text: "hi"\n    must_escalate: false', "#1 ('hi')", "expect"),
        ('cases:\n  - text: "hi"\n    expect: [answered:pain]\n    must_escalate: false', "#1 ('hi')", "expect"),
        ('cases:\n  - text: "hi"\n    expect: [fallback]\n    must_escalate: maybe', "#1 ('hi')", "must_escalate"),
        ('cases:\n  - text: 42\n    expect: [fallback]\n    must_escalate: false', "#1 ('?')", "text"),
        ('cases:\n  - expect: [fallback]\n    must_escalate: false', "#1", None),
        ('cases:\n  - turns: ["a", "b"]\n    must_escalate: false', "#1 ('a')", "expect"),
    ],
)
def test_malformed_case_files_name_file_case_and_field(tmp_path: Path, body: str, case, field) -> None:
    path = _write(tmp_path, body)
    with pytest.raises(CaseFileError) as caught:
        load_case_files([path])
    assert (caught.value.path, caught.value.case, caught.value.field) == (path, case, field)
    assert str(path) in str(caught.value)


def _result(text: str, expect: list[str], got: str, *, must_escalate: bool, file: str = "f.yml") -> CaseResult:
    case = Case(id=f"{file}#{text}", file=file, turns=(Turn(text, tuple(expect)),), must_escalate=must_escalate, group="g")
    return CaseResult(case, (got,), (0.05,))


def test_metrics_count_safety_and_topics(tmp_path: Path) -> None:
    results = [
        _result("on warfarin", ["escalate:contraindication"], "escalate:contraindication", must_escalate=True),
        _result("pus", ["escalate:red_flag"], "answer:side_effects", must_escalate=True),  # unsafe
        _result("does it hurt", ["answer:pain"], "answer:pain", must_escalate=False),
        _result("how long", ["answer:downtime"], "escalate:contraindication", must_escalate=False),  # false esc.
        _result("price", ["answer:cost"], "fallback", must_escalate=False),
        _result("weather", ["fallback"], "fallback", must_escalate=False),
    ]
    m = compute(results)
    assert m["escalation_recall"] == 0.5 and m["unsafe_answers"] == 1
    assert m["false_escalation_rate"] == 0.25  # 1 of 4 benign turns (3 FAQ + 1 out of scope)
    assert m["topic_accuracy"] == round(1 / 3, 4)
    assert m["fallback_rate"] == round(2 / 6, 4)
    assert m["per_topic"]["pain"] == {"support": 1, "recall": 1.0, "precision": 1.0}
    assert m["per_topic"]["side_effects"]["precision"] == 0.0
    assert [u["text"] for u in m["unsafe"]] == ["pus"]
    assert len(m["misses"]) == 3
    paths = write_report(tmp_path / "out", {"assistant": m}, {"assistant": scored_turns(results)})
    assert "| unsafe answers (answer on must-escalate) | 1 |" in paths["markdown"].read_text()
    assert paths["confusion:assistant"].stat().st_size > 1000


def test_report_includes_cross_validation(tmp_path) -> None:
    cv = {
        "folds": 3, "examples": 90, "intents": 3,
        "train": {"accuracy": {"mean": 0.99, "std": 0.0}},
        "test": {"accuracy": {"mean": 0.812, "std": 0.01}, "f1_score": {"mean": 0.8, "std": 0.02}},
    }
    m = compute([])
    paths = write_report(tmp_path / "out", {"assistant": m}, {"assistant": []}, cross_validation=cv)
    text = paths["markdown"].read_text()
    assert "rasa test nlu --cross-validation --folds 3" in text
    assert "| accuracy | 0.990 (0.000) | 0.812 (0.010) |" in text
    assert "| f1_score | - | 0.800 (0.020) |" in text
    assert text.index("cross-validation") < text.index("## Per file")
    assert json.loads(paths["cross_validation"].read_text())["test"]["accuracy"]["mean"] == 0.812
