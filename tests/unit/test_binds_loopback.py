"""Every server binds loopback unless configured otherwise; the container files say otherwise
explicitly, and only there."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from mesoguide.paths import REPO_ROOT
from mesoguide.production import __main__ as production_main
from mesoguide.production.deploy import CONTAINER_BIND_ENV
from mesoguide.stack import action_server_argv, isolated_config, rasa_server_argv


def test_make_run_binds_loopback(tmp_path: Path) -> None:
    config = isolated_config(tmp_path)
    argv = rasa_server_argv(config)
    assert argv[argv.index("--interface") + 1] == "127.0.0.1"
    assert "0.0.0.0" not in " ".join(action_server_argv(config) + argv)


def test_the_container_entry_point_binds_loopback_unless_told(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen: dict[str, Any] = {}
    monkeypatch.setattr("mesoguide.runtime.rasa_server.main", lambda argv: seen.update(argv=argv))
    monkeypatch.setenv("RASA_AUTH_TOKEN", "x" * 20)
    monkeypatch.setenv("MESOGUIDE_CREDENTIALS_FILE", str(tmp_path / "credentials.yml"))
    monkeypatch.delenv("MESOGUIDE_RASA_INTERFACE", raising=False)
    assert production_main.serve_rasa(5005, "endpoints.yml") == 0
    assert seen["argv"][seen["argv"].index("--interface") + 1] == "127.0.0.1"


def test_every_container_is_told_its_interface() -> None:
    compose = yaml.safe_load((REPO_ROOT / "deploy" / "docker-compose.yml").read_text(encoding="utf-8"))
    apps = [s for name, s in compose["services"].items() if name.startswith(("rasa-", "actions-"))]
    assert apps and all(s["environment"][k] == v for s in apps for k, v in CONTAINER_BIND_ENV.items())
