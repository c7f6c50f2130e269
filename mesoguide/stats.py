"""Small statistics the benchmarks and the evaluation share."""

from __future__ import annotations

from collections.abc import Iterable


def percentile(values: Iterable[float], q: float) -> float:
    """The nearest-rank ``q`` quantile (``q`` in [0, 1]) of the values.

    Nearest-rank rather than interpolated: every reported latency is one that was measured.

    Raises:
        ValueError: No values, or ``q`` outside [0, 1].
    """
    ordered = sorted(values)
    if not ordered:
        raise ValueError("percentile of no values")
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"quantile must be in [0, 1], got {q}")
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]
