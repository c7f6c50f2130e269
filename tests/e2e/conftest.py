"""The real action server and Rasa server on loopback, started once for the e2e tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mesoguide.paths import REPO_ROOT
from mesoguide.stack import Stack, StackConfig
from tests.e2e.live import LiveAssistant, free_port

MODELS = REPO_ROOT / "models"


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveAssistant]:
    if not list(MODELS.glob("*.tar.gz")):
        pytest.fail("no trained model in models/: run `make train` (make test does)")
    tmp = tmp_path_factory.mktemp("stack")
    action_port, rasa_port = free_port(), free_port()
    endpoints = tmp / "endpoints.yml"
    endpoints.write_text(
        f'action_endpoint:\n  url: "http://127.0.0.1:{action_port}/webhook"\n'
        f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {tmp / 'tracker.db'}\n",
        encoding="utf-8",
    )
    config = StackConfig(
        model=MODELS,
        endpoints=endpoints,
        credentials=REPO_ROOT / "credentials.yml",
        rasa_port=rasa_port,
        action_port=action_port,
        log_dir=Path(tmp / "logs"),
    )
    with Stack(config):
        yield LiveAssistant(config)
