"""The dashboard's log-in throttle on its own."""

from __future__ import annotations

from mesoguide.dashboard.throttle import LoginThrottle


def test_locks_after_the_limit_and_frees_after_the_lockout() -> None:
    throttle = LoginThrottle(max_failures=3, window_s=60, lockout_s=120)
    for t in (0, 1, 2):
        assert throttle.locked_for("ana", now=t) == 0
        throttle.failed("ana", now=t)
    assert throttle.locked_for("ana", now=3) > 100
    assert throttle.locked_for("ben", now=3) == 0, "per key"
    assert throttle.locked_for("ana", now=123) == 0


def test_old_failures_do_not_count_and_success_clears() -> None:
    throttle = LoginThrottle(max_failures=3, window_s=60, lockout_s=120)
    throttle.failed("ana", now=0)
    throttle.failed("ana", now=1)
    throttle.failed("ana", now=100)
    assert throttle.locked_for("ana", now=101) == 0, "the first two fell out of the window"
    throttle.failed("ana", now=102)
    throttle.succeeded("ana")
    throttle.failed("ana", now=103)
    assert throttle.locked_for("ana", now=104) == 0
