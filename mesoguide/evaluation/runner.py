"""Send cases through a running assistant over REST, each case in a fresh conversation."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from tqdm import tqdm

from mesoguide.client import LiveAssistant
from mesoguide.evaluation.cases import Case


@dataclass(frozen=True)
class CaseResult:
    """What the assistant did with each turn of a case."""

    case: Case
    outcomes: tuple[str | None, ...]
    seconds: tuple[float, ...]


def run_cases(client: LiveAssistant, cases: Sequence[Case], *, workers: int = 4, progress: bool = True) -> list[CaseResult]:
    """Run every case (conversations in parallel, turns of one case in order).

    Args:
        client: A client of the running assistant.
        cases: The cases to run.
        workers: Conversations at a time.
        progress: Show a progress bar on stderr.

    Returns:
        One result per case, in the order of ``cases``.
    """

    def run_one(case: Case) -> CaseResult:
        sender = f"eval-{uuid.uuid4().hex[:12]}"
        turns = [client.say(sender, turn.text) for turn in case.turns]
        return CaseResult(case, tuple(t.outcome for t in turns), tuple(t.seconds for t in turns))

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = pool.map(run_one, cases)
        try:
            return list(tqdm(results, total=len(cases), desc="evaluating", unit="case", disable=not progress))
        except BaseException:
            # Interrupted (Ctrl-C, SIGTERM) or a case failed: the conversations not yet started are
            # dropped, so the servers are stopped in seconds instead of after the whole set.
            pool.shutdown(wait=False, cancel_futures=True)
            raise
