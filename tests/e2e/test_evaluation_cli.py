"""``python -m mesoguide.evaluation`` stopped midway leaves no server behind.

The evaluation starts its own action server and Rasa server; a CI job that times out, or a
developer's ``kill``, sends SIGTERM. The servers must go with the command that started them,
or they hold ports and memory until someone finds them by hand.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mesoguide.paths import REPO_ROOT
from tests.e2e.conftest import MODELS

pytestmark = pytest.mark.e2e

START_TIMEOUT_S = 240
STOP_TIMEOUT_S = 60


def _children(pid: int) -> set[int]:
    """Every process whose parent is ``pid`` (read from /proc; no third-party package needed)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces: fields after the last ')'.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_for_output(proc: subprocess.Popen, marker: bytes, timeout: float) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    os.set_blocking(proc.stderr.fileno(), False)
    while marker not in seen:
        if time.monotonic() > deadline or proc.poll() is not None:
            pytest.fail(f"the evaluation did not start evaluating: {seen[-2000:].decode(errors='replace')}")
        chunk = proc.stderr.read()
        seen += chunk or b""
        time.sleep(0.2)
    return seen


def test_sigterm_midway_stops_the_servers_it_started(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mesoguide.evaluation", str(REPO_ROOT / "tests" / "forums"),
         "--baselines", "", "--cross-validation", "0", "--model", str(MODELS), "--out", str(tmp_path / "report")],
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for_output(proc, b"evaluating", START_TIMEOUT_S)
        servers = _children(proc.pid)
        assert len(servers) >= 2, "the evaluation runs its own action server and Rasa server"

        proc.send_signal(signal.SIGTERM)
        code = proc.wait(STOP_TIMEOUT_S)
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in servers) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    assert code == 128 + signal.SIGTERM
    assert not [pid for pid in servers if _alive(pid)], "servers outlived the evaluation"
    assert not (tmp_path / "report").exists(), "an interrupted run writes no report that looks complete"
