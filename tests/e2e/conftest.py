"""The real action server and Rasa server on loopback, started once for the e2e tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mesoguide.client import LiveAssistant
from mesoguide.paths import REPO_ROOT
from mesoguide.stack import Stack, isolated_config

MODELS = REPO_ROOT / "models"


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveAssistant]:
    if not list(MODELS.glob("*.tar.gz")):
        pytest.fail("no trained model in models/: run `make train` (make test does)")
    config = isolated_config(tmp_path_factory.mktemp("stack"), model=MODELS)
    with Stack(config):
        yield LiveAssistant(config)
