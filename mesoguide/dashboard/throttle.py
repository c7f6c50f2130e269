"""Failed log-ins are counted per address and per account; past a limit both are locked out
for a while, whatever password comes next.

Counting per account stops a guesser spreading over many addresses; per address, one guessing
many accounts. Parallel guesses are counted before the password is checked, so sending many at
once does not get more tries. Counters live in the dashboard process (one process per
deployment: the dashboard is not replicated).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class LoginThrottle:
    """Attributes:
        max_failures: Failures allowed in ``window_s`` before the lockout.
        window_s: How long a failure counts.
        lockout_s: How long a locked address or account stays locked.
    """

    max_failures: int = 5
    window_s: float = 15 * 60
    lockout_s: float = 15 * 60
    _failures: dict[str, list[float]] = field(default_factory=dict)
    _locked_until: dict[str, float] = field(default_factory=dict)

    def locked_for(self, *keys: str, now: float | None = None) -> float:
        """Seconds until every key is free again (0: none is locked)."""
        now = time.monotonic() if now is None else now
        return max([0.0, *(self._locked_until.get(k, 0.0) - now for k in keys)])

    def failed(self, *keys: str, now: float | None = None) -> None:
        """Count one failed log-in for each key; lock a key that reached the limit."""
        now = time.monotonic() if now is None else now
        for key in keys:
            recent = [t for t in self._failures.get(key, []) if now - t < self.window_s] + [now]
            self._failures[key] = recent[-self.max_failures * 4:]
            if len(recent) >= self.max_failures:
                self._locked_until[key] = now + self.lockout_s
        if len(self._failures) > 100_000:  # a flood of made-up names must not grow memory forever
            self._failures.clear()

    def succeeded(self, *keys: str) -> None:
        """A correct log-in clears the account's count (not an address's lockout)."""
        for key in keys:
            self._failures.pop(key, None)
