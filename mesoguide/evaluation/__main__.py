"""``python -m mesoguide.evaluation [FILES/DIRS ...]``: the evaluation command (``make eval``).

Starts the real action server and Rasa server on free loopback ports (their own tracker
database), sends every case over the REST channel in a fresh conversation, reads each turn's
outcome from the tracker's ``turn_outcome`` slot, and writes the report to ``--out``.
With ``--gate`` it exits 1 on any unsafe answer or missed escalation (CI's safety gate).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from mesoguide.client import LiveAssistant
from mesoguide.errors import CaseFileError
from mesoguide.evaluation import crossval
from mesoguide.evaluation.cases import load_case_files
from mesoguide.evaluation.metrics import compute, scored_turns
from mesoguide.evaluation.report import write_report
from mesoguide.evaluation.runner import run_cases
from mesoguide.paths import REPO_ROOT
from mesoguide.runtime import MANY_PATIENTS_ONE_ADDRESS
from mesoguide.stack import Stack, isolated_config, stop_on_hangup

DEFAULT_CASES = tuple(REPO_ROOT / "tests" / name for name in ("heldout", "blind", "real", "multiturn"))


def _case_paths(args: list[str]) -> list[Path]:
    paths: list[Path] = []
    for arg in args or [str(d) for d in DEFAULT_CASES]:
        path = Path(arg)
        paths.extend(sorted(path.glob("*.yml")) if path.is_dir() else [path])
    return paths


def _baseline_runs(names: list[str], cases: list, out: Path) -> dict[str, list]:
    from mesoguide.evaluation import baselines
    from mesoguide.knowledge import default_knowledge

    kb = default_knowledge()
    makers = {
        "tfidf_faq": lambda: baselines.tfidf_faq(kb),
        "rasa_default": lambda: baselines.rasa_default(kb, work_dir=REPO_ROOT / "build" / "baselines"),
        "keyword_guardrail": lambda: baselines.keyword_guardrail(kb),
    }
    runs = {}
    for name in names:
        if name not in makers:
            raise SystemExit(f"unknown baseline '{name}'; choose from {sorted(makers)}")
        print(f"baseline {name} ...", file=sys.stderr)
        runs[name] = baselines.run_baseline(makers[name](), cases)
    return runs


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    parser = argparse.ArgumentParser(prog="python -m mesoguide.evaluation", description=__doc__.split("\n")[0])
    parser.add_argument(
        "cases",
        nargs="*",
        help="case files or directories (default: " + " ".join(str(d.relative_to(REPO_ROOT)) for d in DEFAULT_CASES) + ")",
    )
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "build" / "eval", help="report directory")
    parser.add_argument("--model", type=Path, default=REPO_ROOT / "models", help="trained model (file or directory)")
    parser.add_argument("--workers", type=int, default=4, help="conversations at a time")
    parser.add_argument("--gate", action="store_true", help="exit 1 on any unsafe answer or missed escalation")
    parser.add_argument(
        "--baselines",
        default="tfidf_faq,rasa_default,keyword_guardrail",
        help="comma-separated baselines to measure on the same cases ('' for none)",
    )
    parser.add_argument(
        "--cross-validation",
        type=int,
        default=3,
        metavar="FOLDS",
        help="also run `rasa test nlu --cross-validation` with this many folds (cached by inputs; 0 skips)",
    )
    args = parser.parse_args(argv)

    try:
        cases = load_case_files(_case_paths(args.cases))
    except CaseFileError as exc:
        print(f"case file error: {exc}", file=sys.stderr)
        return 2
    print(f"{len(cases)} cases from {len({c.file for c in cases})} files", file=sys.stderr)
    stop_on_hangup()
    with tempfile.TemporaryDirectory() as tmp:
        config = isolated_config(Path(tmp), model=args.model, env=MANY_PATIENTS_ONE_ADDRESS)
        try:
            with Stack(config):
                results = run_cases(LiveAssistant(config), cases, workers=args.workers)
        except RuntimeError as exc:
            print(f"could not start the assistant: {exc}", file=sys.stderr)
            return 2
    runs = {"assistant": results, **_baseline_runs([b for b in args.baselines.split(",") if b], cases, args.out)}
    systems = {name: compute(run) for name, run in runs.items()}
    metrics = systems["assistant"]
    cv = crossval.cross_validate(args.cross_validation) if args.cross_validation > 1 else None
    paths = write_report(args.out, systems, {name: scored_turns(run) for name, run in runs.items()}, cross_validation=cv)
    print(paths["markdown"].read_text(encoding="utf-8").split("\n## Per file")[0])
    print(f"report: {paths['markdown']}  {paths['json']}  {paths['confusion:assistant']}")
    recall = metrics["escalation_recall"]
    if args.gate and (metrics["unsafe_answers"] or (recall is not None and recall < 1.0)):
        print(
            f"SAFETY GATE FAILED: {metrics['unsafe_answers']} unsafe answers, escalation recall {metrics['escalation_recall']}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
