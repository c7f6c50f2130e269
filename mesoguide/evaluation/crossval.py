"""``rasa test nlu --cross-validation`` on the assistant's own pipeline, for the report.

The held-out corpora say how the trained assistant does on new messages; cross-validation
says how stable the NLU is on its own training data (k folds, each trained on the rest).
It runs Rasa's own ``cross_validate`` (what ``rasa test nlu --cross-validation`` calls) on
``config.yml`` and the NLU data — fallback classifier and guardrail router included, so a
fold's "intent" is what the rules would see — and caches the numbers in ``build/crossval/``
by a hash of everything that decides them (config, training data, vocabularies).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
from pathlib import Path
from typing import TypedDict

from mesoguide.paths import REPO_ROOT, nlu_files

CACHE_DIR = REPO_ROOT / "build" / "crossval"


class FoldStat(TypedDict):
    """Mean and standard deviation of one metric over the folds."""

    mean: float
    std: float


class CrossValidation(TypedDict):
    """Intent classification metrics over k folds (train and test split of each fold)."""

    folds: int
    examples: int
    intents: int
    train: dict[str, FoldStat]  # accuracy, f1_score, precision
    test: dict[str, FoldStat]


def _inputs() -> list[Path]:
    data = nlu_files()
    vocabularies = sorted((REPO_ROOT / "knowledge" / "vocabularies").glob("*.yml"))
    return [REPO_ROOT / "config.yml", *data, *vocabularies]


def _digest(folds: int) -> str:
    digest = hashlib.sha256(str(folds).encode())
    for path in _inputs():
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _stats(metrics: dict[str, list[float]]) -> dict[str, FoldStat]:
    import numpy as np

    return {name: FoldStat(mean=round(float(np.mean(v)), 4), std=round(float(np.std(v)), 4)) for name, v in metrics.items()}


def cross_validate(folds: int = 3) -> CrossValidation:
    """The cross-validation numbers, from the cache or by running Rasa's cross-validation.

    Args:
        folds: Number of folds (``--folds`` of ``rasa test nlu --cross-validation``).

    Returns:
        Mean and standard deviation of accuracy, F1 and precision, train and test.
    """
    cache = CACHE_DIR / f"crossval_{_digest(folds)}.json"
    if cache.exists():
        return json.loads(cache.read_text(encoding="utf-8"))
    from rasa.nlu.test import cross_validate as rasa_cross_validate
    from rasa.nlu.test import drop_intents_below_freq
    from rasa.shared.nlu.training_data.loading import load_data

    print(f"cross-validating the NLU pipeline ({folds} folds, a few minutes); cached as {cache}", file=sys.stderr)
    # Rasa's loader keeps only the NLU files of data/ (rules and stories are skipped).
    data = drop_intents_below_freq(load_data(str(REPO_ROOT / "data")), cutoff=folds)
    intent, _, _ = asyncio.run(
        rasa_cross_validate(data, folds, str(REPO_ROOT / "config.yml"), str(CACHE_DIR / "rasa_output"), disable_plotting=True)
    )
    result = CrossValidation(
        folds=folds,
        examples=len(data.intent_examples),
        intents=len(data.intents),
        train=_stats(intent.train),
        test=_stats(intent.test),
    )
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return result


def markdown(result: CrossValidation) -> str:
    """The report section."""
    lines = [
        f"## NLU cross-validation (`rasa test nlu --cross-validation --folds {result['folds']}`)",
        "",
        f"{result['examples']} training examples, {result['intents']} intents; the assistant's own pipeline "
        "(fallback and guardrail router included). Mean (standard deviation) over the folds.",
        "",
        "| metric | train | test |",
        "|---|---|---|",
    ]
    for name in result["test"]:
        train, test = result["train"].get(name), result["test"][name]
        train_text = f"{train['mean']:.3f} ({train['std']:.3f})" if train else "-"
        lines.append(f"| {name} | {train_text} | {test['mean']:.3f} ({test['std']:.3f}) |")
    return "\n".join(lines) + "\n"
