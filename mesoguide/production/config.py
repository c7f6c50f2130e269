"""The production profile's settings: ``production.yml``, overridden by ``MESOGUIDE_PROD_*``.

One frozen record read by the supervisor, the renderers of nginx and Rasa configuration and the
``deploy/`` generator; nothing else reads the file or those variables.
"""

from __future__ import annotations

import dataclasses
import os
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mesoguide.errors import ProductionConfigError
from mesoguide.paths import REPO_ROOT

DEFAULT_FILE = REPO_ROOT / "production.yml"
ENV_PREFIX = "MESOGUIDE_PROD_"
_NAME = re.compile(r"^[A-Za-z0-9.-]+$")
_DB_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


@dataclass(frozen=True)
class ProductionConfig:
    """What ``production.yml`` sets (each key documented there and in docs/production.md)."""

    public_host: str = "127.0.0.1"
    public_port: int = 8443
    dashboard_port: int = 8444
    server_name: str = "localhost"
    tls_certificate: str = ""
    tls_certificate_key: str = ""
    rest_channel: bool = False
    cors_origins: str = "*"
    rate_limit_per_ip: int = 10
    rate_limit_burst: int = 40
    max_body_kb: int = 16
    rasa_replicas: int = 2
    action_workers: int = 2
    postgres_url: str = ""
    redis_url: str = ""
    tracker_database: str = "mesoguide_tracker"
    escalation_database: str = "mesoguide"
    data_dir: str = "build/production"
    outage_wait_s: float = 20.0

    @property
    def data_path(self) -> Path:
        """``data_dir`` as an absolute path (relative ones are under the repository)."""
        path = Path(self.data_dir)
        return path if path.is_absolute() else REPO_ROOT / path

    @property
    def public_url(self) -> str:
        """Where patients' browsers and the messaging providers reach the chat."""
        return f"https://{self.server_name}:{self.public_port}"

    @property
    def dashboard_url(self) -> str:
        """Where staff reach the dashboard (used in notification links)."""
        return f"https://{self.server_name}:{self.dashboard_port}"

    @property
    def managed_postgres(self) -> bool:
        """True when the profile runs its own PostgreSQL cluster."""
        return not self.postgres_url

    @property
    def managed_redis(self) -> bool:
        """True when the profile runs its own redis-server."""
        return not self.redis_url

    def with_overrides(self, **changes: Any) -> ProductionConfig:
        """A copy with some settings changed (validated like the file)."""
        return _validated(dataclasses.replace(self, **changes))


def load_config(path: Path | None = None, env: Mapping[str, str] | None = None) -> ProductionConfig:
    """Reads ``path`` (default ``production.yml``), then ``MESOGUIDE_PROD_*`` over it.

    Raises:
        ProductionConfigError: Unknown key, a value of the wrong kind or out of range (named).
    """
    env = os.environ if env is None else env
    path = path or Path(env.get(ENV_PREFIX + "FILE") or DEFAULT_FILE)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ProductionConfigError(f"{path}: cannot read it ({exc})") from None
    if not isinstance(raw, dict):
        raise ProductionConfigError(f"{path}: expected key: value lines")
    fields = {f.name: f for f in dataclasses.fields(ProductionConfig)}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise ProductionConfigError(f"{path}: unknown key(s) {unknown}; known: {sorted(fields)}")
    values: dict[str, Any] = {}
    for name, field in fields.items():
        source, value = f"{path}: {name}", raw.get(name, field.default)
        if ENV_PREFIX + name.upper() in env:
            source, value = ENV_PREFIX + name.upper(), env[ENV_PREFIX + name.upper()]
        values[name] = _convert(source, value, field.type)
    return _validated(ProductionConfig(**values))


def _convert(source: str, value: Any, kind: Any) -> Any:
    kind = {"int": int, "float": float, "bool": bool, "str": str}.get(str(kind), kind)
    if kind is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text not in {"1", "0", "true", "false", "yes", "no"}:
            raise ProductionConfigError(f"{source} must be true or false, not {value!r}")
        return text in {"1", "true", "yes"}
    if kind in (int, float):
        try:
            return kind(value)
        except (TypeError, ValueError):
            raise ProductionConfigError(f"{source} must be a number, not {value!r}") from None
    return "" if value is None else str(value).strip()


def _validated(config: ProductionConfig) -> ProductionConfig:
    def fail(key: str, problem: str) -> None:
        raise ProductionConfigError(f"production setting {key} ({ENV_PREFIX}{key.upper()}): {problem}")

    for key in ("public_port", "dashboard_port"):
        if not 1 <= getattr(config, key) <= 65535:
            fail(key, "must be a port number (1-65535)")
    if config.public_port == config.dashboard_port:
        fail("dashboard_port", "must differ from public_port")
    for key in ("rasa_replicas", "action_workers"):
        if not 1 <= getattr(config, key) <= 16:
            fail(key, "must be between 1 and 16")
    for key in ("rate_limit_per_ip", "rate_limit_burst", "max_body_kb"):
        if getattr(config, key) < 1:
            fail(key, "must be at least 1")
    if not _NAME.match(config.server_name):
        fail("server_name", "must be a host name or address")
    if not _NAME.match(config.public_host):
        fail("public_host", "must be an address to listen on (127.0.0.1, 0.0.0.0, ...)")
    if bool(config.tls_certificate) != bool(config.tls_certificate_key):
        fail("tls_certificate", "set both tls_certificate and tls_certificate_key, or neither (self-signed)")
    for key in ("tls_certificate", "tls_certificate_key"):
        if getattr(config, key) and not Path(getattr(config, key)).is_file():
            fail(key, f"{getattr(config, key)} is not a file")
    for key in ("tracker_database", "escalation_database"):
        if not _DB_NAME.match(getattr(config, key)):
            fail(key, "must be a lowercase PostgreSQL name (letters, digits, _)")
    if config.tracker_database == config.escalation_database:
        fail("tracker_database", "must differ from escalation_database")
    if config.postgres_url:
        parts = urllib.parse.urlsplit(config.postgres_url)
        if parts.scheme not in {"postgresql", "postgres"} or not parts.hostname or parts.path not in {"", "/"}:
            fail("postgres_url", "must look like postgresql://user:password@host:5432 (no database name)")
    if config.redis_url:
        parts = urllib.parse.urlsplit(config.redis_url)
        if parts.scheme != "redis" or not parts.hostname:
            fail("redis_url", "must look like redis://:password@host:6379/0")
    if config.outage_wait_s < 0:
        fail("outage_wait_s", "must not be negative")
    for origin in config.cors_origins.split():
        if origin != "*" and not origin.startswith(("https://", "http://")):
            fail("cors_origins", f"{origin!r} is not * or an http(s) origin")
    return config
