"""Rasa's own starter bot (``rasa init``), the baseline of ``make bench-compare``.

Made once into ``build/stock-bot`` with ``rasa init --no-prompt`` (which also trains it; the
model is reused while it exists) and served exactly as Rasa ships it: ``rasa run`` with its
default in-memory tracker and lock stores, REST channel, one process, on loopback.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from mesoguide.paths import REPO_ROOT
from mesoguide.stack import _answers

STOCK_DIR = REPO_ROOT / "build" / "stock-bot"
#: Ten messages the starter bot understands, cycled like MesoGuide's benchmark messages.
STOCK_MESSAGES = (
    "hi",
    "I am feeling sad",
    "yes",
    "are you a bot?",
    "hello there",
    "I'm great",
    "no",
    "that helped, thanks",
    "very good",
    "goodbye",
)


def _rasa() -> str:
    return str(Path(sys.executable).with_name("rasa"))


def ensure_stock_bot(directory: Path = STOCK_DIR) -> Path:
    """The starter bot's trained model, made with ``rasa init --no-prompt`` when missing."""
    models = sorted((directory / "models").glob("*.tar.gz"))
    if models:
        return models[-1]
    directory.mkdir(parents=True, exist_ok=True)
    print(f"making the stock bot in {directory} (rasa init --no-prompt, trains once) ...", flush=True)
    subprocess.run(
        [_rasa(), "init", "--no-prompt", "--init-dir", str(directory)],
        cwd=directory,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"},
    )
    models = sorted((directory / "models").glob("*.tar.gz"))
    if not models:
        raise RuntimeError(f"rasa init made no model in {directory / 'models'}")
    return models[-1]


class StockBot:
    """``rasa run`` of the starter bot on a loopback port; a context manager."""

    def __init__(self, *, port: int, directory: Path = STOCK_DIR) -> None:
        self.port = port
        self.directory = directory
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """Base URL of its REST channel."""
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> StockBot:
        model = ensure_stock_bot(self.directory)
        log = open(self.directory / "rasa-run.log", "ab")  # handed to the child
        self.proc = subprocess.Popen(
            [_rasa(), "run", "--model", str(model), "--interface", "127.0.0.1", "--port", str(self.port), "--enable-api"],
            cwd=self.directory,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"},
        )
        log.close()
        deadline = time.monotonic() + 180
        while not _answers(f"{self.url}/status"):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise RuntimeError(f"the stock bot did not start; see {self.directory / 'rasa-run.log'}")
            time.sleep(0.5)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
