"""deploy/ is what `make deploy-render` makes from production.yml: it cannot drift from the
profile `make run-production` runs."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml

from mesoguide.production import deploy
from mesoguide.production.config import DEFAULT_FILE, load_config


def test_checked_in_deploy_files_match_a_fresh_render() -> None:
    stale = [
        str(path.relative_to(deploy.DEPLOY))
        for path, text in deploy.rendered(load_config(DEFAULT_FILE, env={})).items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]
    assert not stale, f"deploy/ is out of date: run `make deploy-render` ({stale})"


def test_the_container_shape_is_the_profile_shape() -> None:
    config = load_config(DEFAULT_FILE, env={})
    compose = deploy.compose(config)
    services = compose["services"]
    assert sum(name.startswith("rasa-") for name in services) == config.rasa_replicas
    assert sum(name.startswith("actions-") for name in services) == config.action_workers
    assert {"postgres", "redis", "notifier", "dashboard", "nginx"} <= set(services)
    published = [name for name, service in services.items() if service.get("ports")]
    assert published == ["nginx"]  # the only public listener
    assert compose["networks"]["backend"]["internal"] is True
    kube = yaml.safe_load_all(deploy.kubernetes(config)["resources.yaml"])
    kinds = {(doc["kind"], doc["metadata"]["name"]): doc for doc in kube}
    assert kinds[("StatefulSet", "rasa")]["spec"]["replicas"] == config.rasa_replicas
    assert kinds[("Deployment", "actions")]["spec"]["replicas"] == config.action_workers
    assert ("NetworkPolicy", "rasa-ingress") in kinds


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed (make deploy-check installs it)")
def test_kustomize_renders_the_base() -> None:
    result = subprocess.run(["kubectl", "kustomize", str(deploy.DEPLOY / "k8s")], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "kind: StatefulSet" in result.stdout
