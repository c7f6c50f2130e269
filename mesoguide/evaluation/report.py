"""Write an evaluation report: JSON (for machines), Markdown (for people), a confusion PNG."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display on servers and in CI
import matplotlib.pyplot as plt
import numpy as np

from mesoguide.evaluation import crossval
from mesoguide.evaluation.crossval import CrossValidation
from mesoguide.evaluation.metrics import ScoredTurn

HEADLINE = (
    ("escalation_recall", "escalation recall (must-escalate)", "pct"),
    ("unsafe_answers", "unsafe answers (answer on must-escalate)", "int"),
    ("false_escalation_rate", "false escalations (benign)", "pct"),
    ("topic_accuracy", "topic accuracy (FAQ)", "pct"),
    ("fallback_rate", "fallback rate (all scored turns)", "pct"),
    ("expected_outcome_rate", "expected outcome (all scored turns)", "pct"),
)


def _fmt(value: Any, kind: str) -> str:
    if value is None:
        return "n/a"
    return f"{value:.1%}" if kind == "pct" else str(value)


def _ratio(ours: Any, theirs: Any) -> str:
    if ours is None or theirs is None:
        return "n/a"
    if theirs == 0:
        return "same (0)" if ours == 0 else "∞"
    return f"{ours / theirs:.2f}×"


def write_report(
    out: Path,
    systems: Mapping[str, dict[str, Any]],
    turns: Mapping[str, list[ScoredTurn]],
    *,
    cross_validation: CrossValidation | None = None,
) -> dict[str, Path]:
    """Write report.json, report.md and one confusion PNG per system into ``out``.

    Args:
        out: The output directory (created).
        systems: Metrics per system name (the assistant first, then baselines).
        turns: Scored turns per system, for the confusion matrices.
        cross_validation: NLU cross-validation numbers, if they were measured
            (``cross_validation.json`` and a section of the Markdown).

    Returns:
        The paths written, by kind.
    """
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "report.json", "markdown": out / "report.md"}
    paths["json"].write_text(json.dumps(systems, indent=2), encoding="utf-8")
    for name, system_turns in turns.items():
        paths[f"confusion:{name}"] = _confusion_png(out / f"confusion_{name}.png", name, system_turns)
    text = _markdown(systems, paths)
    if cross_validation is not None:
        paths["cross_validation"] = out / "cross_validation.json"
        paths["cross_validation"].write_text(json.dumps(cross_validation, indent=2), encoding="utf-8")
        # After the side-by-side table, before the per-file details.
        head, sep, tail = text.partition("\n## Per file")
        text = f"{head}\n{crossval.markdown(cross_validation)}{sep}{tail}"
    paths["markdown"].write_text(text, encoding="utf-8")
    return paths


def _markdown(systems: Mapping[str, dict[str, Any]], paths: Mapping[str, Path]) -> str:
    names = list(systems)
    first = names[0]
    lines = ["# MesoGuide evaluation", "", "| metric | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for key, label, kind in HEADLINE:
        lines.append(f"| {label} | " + " | ".join(_fmt(systems[n].get(key), kind) for n in names) + " |")
    if len(names) > 1:
        lines += ["", f"Ratios ({first} ÷ baseline; for unsafe answers and false escalations lower is better):", ""]
        lines += ["| metric | " + " | ".join(f"÷ {n}" for n in names[1:]) + " |", "|---|" + "---|" * (len(names) - 1)]
        for key, label, _ in HEADLINE:
            lines.append(
                f"| {label} | " + " | ".join(_ratio(systems[first].get(key), systems[n].get(key)) for n in names[1:]) + " |"
            )
    lat = systems[first].get("latency_ms") or {}
    lines += [
        "",
        f"Latency per message ({first}): median {lat.get('median')} ms, p90 {lat.get('p90')} ms, "
        f"p95 {lat.get('p95')} ms, p99 {lat.get('p99')} ms, max {lat.get('max')} ms.",
        "",
        f"Cases: {systems[first]['cases']}, scored turns: {systems[first]['scored_turns']}.",
        "",
        "## Per file",
        "",
        "| file | turns | expected outcome |",
        "|---|---|---|",
    ]
    for file, numbers in systems[first]["per_file"].items():
        lines.append(f"| {file} | {numbers['turns']} | {_fmt(numbers['expected_outcome_rate'], 'pct')} |")
    lines += ["", "## Per topic", "", "| topic | support | precision | recall |", "|---|---|---|---|"]
    for topic, numbers in systems[first]["per_topic"].items():
        lines.append(
            f"| {topic} | {numbers['support']} | {_fmt(numbers['precision'], 'pct')} | {_fmt(numbers['recall'], 'pct')} |"
        )
    lines += ["", f"Confusion matrix: `{paths.get('confusion:' + first, '')}`", "", "## Unsafe answers", ""]
    unsafe = systems[first]["unsafe"]
    lines += [f'- {u["file"]}: "{u["text"]}" -> {u["got"]}' for u in unsafe] or ["None."]
    lines += ["", "## Misses", "", "| file | text | expected | got |", "|---|---|---|---|"]
    for miss in systems[first]["misses"]:
        text = miss["text"].replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {miss['file']} | {text} | {', '.join(miss['expect'])} | {miss['got']} |")
    return "\n".join(lines) + "\n"


def _confusion_png(path: Path, name: str, turns: list[ScoredTurn]) -> Path:
    """Row-normalised confusion matrix, expected (first acceptable outcome) vs predicted."""
    gold = [t.expect[0] for t in turns]
    got = [t.got or "none" for t in turns]
    labels = sorted(set(gold) | set(got), key=lambda x: (not x.startswith("answer:"), x))
    index = {label: i for i, label in enumerate(labels)}
    matrix = np.zeros((len(labels), len(labels)))
    for g, p in zip(gold, got, strict=True):
        matrix[index[g], index[p]] += 1
    rows = matrix.sum(axis=1, keepdims=True)
    normalised = np.divide(matrix, rows, out=np.zeros_like(matrix), where=rows > 0)
    size = max(8.0, 0.28 * len(labels) + 3)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(normalised, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    ax.set_xlabel("predicted outcome")
    ax.set_ylabel("expected outcome")
    ax.set_title(f"{name}: share of each expected outcome (row) by predicted outcome")
    for i, j in zip(*np.nonzero(matrix), strict=True):
        if i != j:
            ax.text(j, i, int(matrix[i, j]), ha="center", va="center", fontsize=6, color="darkred")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
