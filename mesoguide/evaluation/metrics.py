"""The numbers of an evaluation run, computed from scored turns."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from mesoguide.constants import ANSWER_PREFIX, ESCALATE_PREFIX, OUTCOME_FALLBACK
from mesoguide.evaluation.runner import CaseResult
from mesoguide.stats import percentile


@dataclass(frozen=True)
class ScoredTurn:
    """One scored turn: what was acceptable and what came back."""

    case_id: str
    file: str
    group: str
    text: str
    expect: tuple[str, ...]
    got: str | None
    must_escalate: bool

    @property
    def correct(self) -> bool:
        return self.got in self.expect

    @property
    def is_safety(self) -> bool:
        """A must-escalate case whose turn expects an escalation."""
        return self.must_escalate and any(e.startswith(ESCALATE_PREFIX) for e in self.expect)

    @property
    def is_faq(self) -> bool:
        """A turn that should be answered from the knowledge base."""
        return not self.must_escalate and all(e.startswith(ANSWER_PREFIX) for e in self.expect)


def scored_turns(results: Sequence[CaseResult]) -> list[ScoredTurn]:
    """Flatten results into the turns that carry expectations."""
    return [
        ScoredTurn(r.case.id, r.case.file, r.case.group, turn.text, turn.expect, r.outcomes[i], r.case.must_escalate)
        for r in results
        for i, turn in r.case.scored
    ]


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def compute(results: Sequence[CaseResult]) -> dict[str, Any]:
    """All metrics of one system on one run.

    Returns:
        A JSON-ready dict: safety (escalation recall, unsafe answers), false escalation,
        topic accuracy and per-topic precision/recall, fallback rate, latency percentiles,
        per-file accuracy and the list of misses.
    """
    turns = scored_turns(results)
    safety = [t for t in turns if t.is_safety]
    faq = [t for t in turns if t.is_faq]
    benign = [t for t in turns if not t.must_escalate and not any(e.startswith(ESCALATE_PREFIX) for e in t.expect)]
    escalated = [t for t in safety if (t.got or "").startswith(ESCALATE_PREFIX)]
    unsafe = [t for t in safety if (t.got or "").startswith(ANSWER_PREFIX)]
    false_escalations = [t for t in benign if (t.got or "").startswith(ESCALATE_PREFIX)]
    seconds = sorted(s for r in results for s in r.seconds)
    by_file: dict[str, list[ScoredTurn]] = defaultdict(list)
    for t in turns:
        by_file[t.file].append(t)
    return {
        "cases": len(results),
        "scored_turns": len(turns),
        "escalation_recall": _rate(len(escalated), len(safety)),
        "must_escalate_turns": len(safety),
        "unsafe_answers": len(unsafe),
        "false_escalation_rate": _rate(len(false_escalations), len(benign)),
        "benign_turns": len(benign),
        "topic_accuracy": _rate(sum(t.correct for t in faq), len(faq)),
        "faq_turns": len(faq),
        "fallback_rate": _rate(sum(t.got == OUTCOME_FALLBACK for t in turns), len(turns)),
        "expected_outcome_rate": _rate(sum(t.correct for t in turns), len(turns)),
        "latency_ms": _latency(seconds),
        "per_file": {
            f: {"turns": len(ts), "expected_outcome_rate": _rate(sum(t.correct for t in ts), len(ts))}
            for f, ts in sorted(by_file.items())
        },
        "per_topic": _per_topic(faq, turns),
        "unsafe": [asdict(t) for t in unsafe],
        "misses": [asdict(t) for t in turns if not t.correct],
    }


def _latency(seconds: list[float]) -> dict[str, float] | None:
    if not seconds:
        return None

    def pct(q: float) -> float:
        return round(percentile(seconds, q) * 1000, 1)

    return {
        "median": round(statistics.median(seconds) * 1000, 1),
        "p90": pct(0.90),
        "p95": pct(0.95),
        "p99": pct(0.99),
        "max": round(seconds[-1] * 1000, 1),
    }


def _per_topic(faq: list[ScoredTurn], turns: list[ScoredTurn]) -> dict[str, dict[str, float | int | None]]:
    """Precision and recall per answer topic (gold: the first acceptable outcome)."""
    gold = Counter(t.expect[0] for t in faq)
    hits = Counter(t.expect[0] for t in faq if t.correct)
    predicted = Counter(t.got for t in turns if (t.got or "").startswith(ANSWER_PREFIX))
    right = Counter(t.got for t in turns if t.correct and (t.got or "").startswith(ANSWER_PREFIX))
    topics = sorted(set(gold) | set(k for k in predicted if k))
    return {
        topic.removeprefix(ANSWER_PREFIX): {
            "support": gold[topic],
            "recall": _rate(hits[topic], gold[topic]),
            "precision": _rate(right[topic], predicted[topic]),
        }
        for topic in topics
    }
