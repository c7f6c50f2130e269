"""production.yml, its environment overrides, and what nginx and Rasa are given from it."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from mesoguide.errors import ProductionConfigError
from mesoguide.knowledge import KnowledgeBase
from mesoguide.production import render
from mesoguide.production.config import DEFAULT_FILE, ProductionConfig, load_config


def _runtime(tmp_path: Path, **changes: object) -> render.Runtime:
    values: dict = dict(
        rasa_ports=(21001, 21002),
        action_ports=(21011, 21012),
        action_lb_port=21020,
        dashboard_port=21030,
        postgres=render.Postgres("127.0.0.1", 21040, "mesoguide", "pg-secret"),
        redis=render.Redis("127.0.0.1", 21050, "redis-secret"),
        api_token="token-secret",
        tls_certificate=tmp_path / "c.crt",
        tls_certificate_key=tmp_path / "c.key",
        data=tmp_path,
    )
    values.update(changes)
    return render.Runtime(**values)


def test_the_checked_in_file_loads_with_documented_defaults() -> None:
    config = load_config(DEFAULT_FILE, env={})
    assert config == ProductionConfig()  # production.yml says what the code defaults say
    assert config.rasa_replicas >= 2 and config.action_workers >= 2
    assert config.rest_channel is False


def test_environment_overrides_the_file() -> None:
    config = load_config(
        DEFAULT_FILE,
        env={"MESOGUIDE_PROD_PUBLIC_PORT": "443", "MESOGUIDE_PROD_REST_CHANNEL": "yes", "MESOGUIDE_PROD_RASA_REPLICAS": "3"},
    )
    assert (config.public_port, config.rest_channel, config.rasa_replicas) == (443, True, 3)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"MESOGUIDE_PROD_PUBLIC_PORT": "eighty"}, "PUBLIC_PORT"),
        ({"MESOGUIDE_PROD_RASA_REPLICAS": "0"}, "rasa_replicas"),
        ({"MESOGUIDE_PROD_REST_CHANNEL": "maybe"}, "REST_CHANNEL"),
        ({"MESOGUIDE_PROD_TLS_CERTIFICATE": "/etc/x.pem"}, "tls_certificate"),
        ({"MESOGUIDE_PROD_POSTGRES_URL": "postgresql://u:p@db/mesoguide"}, "postgres_url"),
        ({"MESOGUIDE_PROD_DASHBOARD_PORT": "8443"}, "dashboard_port"),
        ({"MESOGUIDE_PROD_CORS_ORIGINS": "clinic.example"}, "cors_origins"),
    ],
)
def test_a_bad_setting_is_refused_by_name(env: dict[str, str], named: str) -> None:
    with pytest.raises(ProductionConfigError, match=named):
        load_config(DEFAULT_FILE, env=env)


def test_an_unknown_key_in_the_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "production.yml"
    path.write_text("public_port: 8443\nreplicas: 2\n", encoding="utf-8")
    with pytest.raises(ProductionConfigError, match="unknown key"):
        load_config(path, env={})


def _server_blocks(conf: str) -> dict[str, str]:
    """listen address -> the text of its server block."""
    blocks = {}
    for block in re.split(r"\n  server \{", conf)[1:]:
        listen = re.search(r"listen ([^; ]+)", block)
        assert listen
        blocks[listen.group(1)] = block
    return blocks


def test_nginx_routes_only_the_chat_and_never_the_rasa_api(tmp_path: Path, kb: KnowledgeBase) -> None:
    config = ProductionConfig()
    conf = render.nginx_conf(config, _runtime(tmp_path).nginx_shape(), kb)
    public = _server_blocks(conf)[f"{config.public_host}:{config.public_port}"]
    locations = re.findall(r"location ([^{]+)\{", public)
    assert "ssl_certificate" in public
    for api in ("/conversations", "/model", "/status", "/webhooks/rest"):
        assert not any(api in loc for loc in locations), api
    assert any("/socket.io/" in loc for loc in locations)
    assert any("telegram|twilio" in loc for loc in locations)
    assert "location / { return 404; }" in public
    assert "ip_hash;" in conf and "limit_req zone=chat" in public and "client_max_body_size 16k;" in conf
    # Internal listeners stay on loopback; only the two public ones use public_host.
    for listen in _server_blocks(conf):
        assert listen.startswith("127.0.0.1:")


def test_rest_is_routed_only_when_enabled_with_a_clear_try_again(tmp_path: Path, kb: KnowledgeBase) -> None:
    conf = render.nginx_conf(ProductionConfig(rest_channel=True), _runtime(tmp_path).nginx_shape(), kb)
    assert "location = /webhooks/rest/webhook" in conf
    assert "error_page 500 502 503 504 = @try_again;" in conf
    assert kb.clinic.phone in conf  # the try-again reply names the clinic's phone


def test_no_secret_reaches_the_nginx_configuration(tmp_path: Path, kb: KnowledgeBase) -> None:
    conf = render.nginx_conf(ProductionConfig(), _runtime(tmp_path).nginx_shape(), kb)
    for secret in ("pg-secret", "redis-secret", "token-secret"):
        assert secret not in conf


@pytest.mark.skipif(
    shutil.which("nginx", path="/usr/sbin:/usr/bin") is None, reason="nginx not installed (make run-production installs it)"
)
def test_nginx_accepts_the_rendered_configuration(tmp_path: Path, kb: KnowledgeBase) -> None:
    from mesoguide.production.services import prepare_nginx, self_signed_certificate

    cert, key = self_signed_certificate(tmp_path / "tls", "localhost")
    rt = _runtime(tmp_path, tls_certificate=cert, tls_certificate_key=key)
    (tmp_path / "logs").mkdir()
    prepare_nginx(tmp_path, None)
    conf = tmp_path / "nginx" / "nginx.conf"
    conf.write_text(render.nginx_conf(ProductionConfig(rest_channel=True), rt.nginx_shape(), kb), encoding="utf-8")
    result = subprocess.run(["nginx", "-t", "-c", str(conf), "-p", str(conf.parent)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_endpoints_use_postgres_redis_and_the_project_stores(tmp_path: Path) -> None:
    data = yaml.safe_load(render.endpoints_yaml(ProductionConfig(), _runtime(tmp_path)))
    assert data["tracker_store"]["type"] == render.TRACKER_STORE_CLASS
    assert data["tracker_store"]["dialect"] == "postgresql"
    assert data["lock_store"]["type"] == render.LOCK_STORE_CLASS
    assert data["action_endpoint"]["url"] == "http://127.0.0.1:21020/webhook"


def test_private_files_are_owner_only(tmp_path: Path) -> None:
    path = render.write_private(tmp_path / "endpoints.yml", "password: x\n")
    assert path.stat().st_mode & 0o777 == 0o600


def test_nginx_routes_every_file_the_widget_channel_serves() -> None:
    from mesoguide.channels.webchat import STATIC_FILES, WIDGET_CONFIG

    assert set(render.WIDGET_FILES) == set(STATIC_FILES) | {WIDGET_CONFIG}
