"""The configuration files of the production profile, rendered from :class:`.ProductionConfig`
and the ports and secrets of one run (:class:`Runtime`).

Pure functions from records to text, so tests read exactly what nginx and Rasa will read.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mesoguide.knowledge import KnowledgeBase
from mesoguide.production.config import ProductionConfig
from mesoguide.runtime.action_auth import ENV_ACTION_TOKEN

#: What a patient sees when no Rasa server could take the message (REST; clinic facts filled in).
TRY_AGAIN_TEXT = (
    "Sorry, I could not answer just now. Please send your message again in a moment. "
    "If it is urgent, call {clinic_name} on {phone}; in an emergency call {emergency_number}."
)
#: What a patient sees when they send too many messages too fast.
SLOW_DOWN_TEXT = "You are sending messages faster than I can read them. Please wait a few seconds and try again."
#: The widget's files the Rasa server serves (mesoguide/channels/webchat.py STATIC_FILES and
#: WIDGET_CONFIG; tests/production/test_config_and_render.py keeps the two lists equal).
WIDGET_FILES = ("widget.js", "widget.css", "socket.io.min.js", "demo", "widget-config.json")
#: Messaging webhooks routed to the Rasa servers (their connectors authenticate each request).
MESSAGING_WEBHOOKS = ("telegram", "twilio")
#: Rasa's lock-store class with atomic tickets and outage waits (mesoguide/production/lock_store.py).
LOCK_STORE_CLASS = "mesoguide.production.lock_store.AtomicRedisLockStore"
#: Rasa's tracker store with outage waits and a per-conversation cache (tracker_store.py).
TRACKER_STORE_CLASS = "mesoguide.production.tracker_store.ResilientSQLTrackerStore"


@dataclass(frozen=True)
class Postgres:
    """A PostgreSQL server to connect to (password auth)."""

    host: str
    port: int
    user: str
    password: str

    def url(self, database: str) -> str:
        """SQLAlchemy URL of one database on it."""
        from urllib.parse import quote

        login = f"{quote(self.user, safe='')}:{quote(self.password, safe='')}"
        return f"postgresql+psycopg2://{login}@{self.host}:{self.port}/{database}"


@dataclass(frozen=True)
class Redis:
    """A Redis server to connect to."""

    host: str
    port: int
    password: str
    db: int = 0

    def url(self) -> str:
        """``redis://`` URL of it (python-socketio's Redis manager reads this form)."""
        from urllib.parse import quote

        return f"redis://:{quote(self.password, safe='')}@{self.host}:{self.port}/{self.db}"


@dataclass(frozen=True)
class NginxShape:
    """Where nginx sends what, and where it keeps its files: the same template serves this
    machine (loopback ports) and the containers of ``deploy/`` (service names).

    Attributes:
        rasa_servers: ``host:port`` of each Rasa server.
        action_servers: ``host:port`` of each action server.
        dashboard_server: ``host:port`` of the dashboard.
        action_lb_listen: ``host:port`` of the action servers' load balancer (None where the
            platform balances them itself, e.g. a Kubernetes Service).
        certificate: PEM certificate path.
        certificate_key: Its key.
        state_dir: pid file and temp files.
        access_log: Access log path (``/dev/stdout`` in a container).
        error_log: Error log path.
        user: Worker user when the master runs as root.
    """

    rasa_servers: tuple[str, ...]
    action_servers: tuple[str, ...]
    dashboard_server: str
    action_lb_listen: str | None
    certificate: str
    certificate_key: str
    state_dir: str
    access_log: str
    error_log: str
    user: str | None = None


@dataclass(frozen=True)
class Runtime:
    """The ports, secrets and files of one run of the profile (free loopback ports).

    Attributes:
        rasa_ports: One per Rasa server.
        action_ports: One per action-server worker.
        action_lb_port: The loopback nginx upstream the Rasa servers call actions through.
        dashboard_port: The dashboard's own loopback port (nginx serves it publicly).
        postgres: Where the tracker and escalation databases are.
        redis: Where the lock store is.
        api_token: Token of the Rasa HTTP API (loopback only; nginx never routes it).
        tls_certificate: PEM certificate nginx serves.
        tls_certificate_key: Its key.
        data: The profile's data directory.
        nginx_user: The user nginx's workers run as when started by root (None otherwise).
    """

    rasa_ports: tuple[int, ...]
    action_ports: tuple[int, ...]
    action_lb_port: int
    dashboard_port: int
    postgres: Postgres
    redis: Redis
    api_token: str
    tls_certificate: Path
    tls_certificate_key: Path
    data: Path
    nginx_user: str | None = None

    @property
    def action_url(self) -> str:
        """The action endpoint the Rasa servers call."""
        return f"http://127.0.0.1:{self.action_lb_port}/webhook"

    def nginx_shape(self) -> NginxShape:
        """nginx on this machine: everything on loopback ports, files under the data directory."""
        return NginxShape(
            rasa_servers=tuple(f"127.0.0.1:{port}" for port in self.rasa_ports),
            action_servers=tuple(f"127.0.0.1:{port}" for port in self.action_ports),
            dashboard_server=f"127.0.0.1:{self.dashboard_port}",
            action_lb_listen=f"127.0.0.1:{self.action_lb_port}",
            certificate=str(self.tls_certificate),
            certificate_key=str(self.tls_certificate_key),
            state_dir=str(self.data / "nginx"),
            access_log=str(self.data / "logs" / "nginx-access.log"),
            error_log=str(self.data / "logs" / "nginx-error.log"),
            user=self.nginx_user,
        )


def nginx_conf(config: ProductionConfig, shape: NginxShape, kb: KnowledgeBase) -> str:
    """nginx.conf: TLS in front of the chat and the dashboard, and the loopback action upstream.

    Only the widget's files, ``/socket.io``, the messaging webhooks (and REST when enabled) reach
    a Rasa server; ``/conversations``, ``/model``, ``/status`` and the rest of Rasa's API answer
    404 from nginx itself.
    """
    state = Path(shape.state_dir)
    limit = f"limit_req zone=chat burst={config.rate_limit_burst} nodelay;"
    try_again = json.dumps([{"recipient_id": "", "text": kb.render(TRY_AGAIN_TEXT)}])
    slow_down = json.dumps([{"recipient_id": "", "text": SLOW_DOWN_TEXT}])
    proxy_headers = _indent(
        [
            "proxy_http_version 1.1;",
            'proxy_set_header Connection "";',
            "proxy_set_header Host $host;",
            "proxy_set_header X-Forwarded-For $remote_addr;",
            "proxy_set_header X-Forwarded-Proto https;",
            "proxy_connect_timeout 2s;",
            "proxy_read_timeout 60s;",
        ],
        6,
    )
    chat_locations = [
        f"    location ~ ^/webhooks/webchat/({'|'.join(f.replace('.', '[.]') for f in WIDGET_FILES)})$ {{",
        f"      {limit}",
        "      proxy_pass http://rasa;",
        proxy_headers,
        "    }",
        "    # socket.io: sticky by client address (each Rasa server holds its own sockets).",
        "    location /socket.io/ {",
        f"      {limit}",
        "      proxy_pass http://rasa_sticky;",
        "      proxy_http_version 1.1;",
        "      proxy_set_header Upgrade $http_upgrade;",
        "      proxy_set_header Connection $connection_upgrade;",
        "      proxy_set_header Host $host;",
        "      proxy_set_header X-Forwarded-For $remote_addr;",
        "      proxy_set_header X-Forwarded-Proto https;",
        "      proxy_connect_timeout 2s;",
        "      proxy_read_timeout 120s;",
        "    }",
        f"    location ~ ^/webhooks/({'|'.join(MESSAGING_WEBHOOKS)})/webhook$ {{",
        f"      {limit}",
        "      proxy_pass http://rasa;",
        proxy_headers,
        "    }",
    ]
    if config.rest_channel:
        chat_locations += [
            "    location = /webhooks/rest/webhook {",
            f"      {limit}",
            "      proxy_pass http://rasa;",
            proxy_headers,
            "      proxy_intercept_errors on;",
            "      error_page 500 502 503 504 = @try_again;",
            "      error_page 429 = @slow_down;",
            "    }",
            "    location @try_again {",
            "      default_type application/json;",
            f"      return 503 '{_nginx_quote(try_again)}';",
            "    }",
            "    location @slow_down {",
            "      default_type application/json;",
            f"      return 429 '{_nginx_quote(slow_down)}';",
            "    }",
        ]
    tls = [
        f"    ssl_certificate {shape.certificate};",
        f"    ssl_certificate_key {shape.certificate_key};",
        "    ssl_protocols TLSv1.2 TLSv1.3;",
        "    ssl_session_cache shared:tls:10m;",
        "    ssl_session_timeout 1h;",
        '    add_header Strict-Transport-Security "max-age=31536000" always;',
        "    add_header X-Content-Type-Options nosniff always;",
    ]
    lines = [
        "# Generated by mesoguide.production (production.yml); do not edit: it is rewritten at each start.",
        "daemon off;",
        "worker_processes 1;",
        *([f"user {shape.user};"] if shape.user else []),
        f"pid {state / 'nginx.pid'};",
        f"error_log {shape.error_log} warn;",
        "events { worker_connections 2048; }",
        "http {",
        "  server_tokens off;",
        # No query strings and no bodies in the log: nothing a patient typed is ever in it.
        "  log_format chat '$remote_addr [$time_local] \"$request_method $uri\" $status $body_bytes_sent '",
        "                  '$request_time $upstream_addr';",
        f"  access_log {shape.access_log} chat;",
        *[f"  {kind}_temp_path {state / 'tmp' / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")],
        f"  client_max_body_size {config.max_body_kb}k;",
        f"  client_body_buffer_size {config.max_body_kb}k;",
        "  keepalive_timeout 65s;",
        f"  limit_req_zone $binary_remote_addr zone=chat:10m rate={config.rate_limit_per_ip}r/s;",
        "  limit_req_zone $binary_remote_addr zone=staff:1m rate=5r/s;",
        "  limit_req_status 429;",
        "  limit_req_log_level warn;",
        "  map $http_upgrade $connection_upgrade { default upgrade; '' ''; }",
        "  upstream rasa {",
        "    least_conn;",
        *[f"    server {server} max_fails=1 fail_timeout=3s;" for server in shape.rasa_servers],
        "    keepalive 32;",
        "  }",
        "  upstream rasa_sticky {",
        "    ip_hash;",
        *[f"    server {server} max_fails=1 fail_timeout=3s;" for server in shape.rasa_servers],
        "  }",
        "  upstream dashboard {",
        f"    server {shape.dashboard_server};",
        "  }",
        *(_action_balancer(config, shape, proxy_headers) if shape.action_lb_listen else []),
        "  server {",
        f"    listen {config.public_host}:{config.public_port} ssl;",
        f"    server_name {config.server_name};",
        *tls,
        *chat_locations,
        "    # Rasa's HTTP API (/conversations, /model, /status, ...) and anything else: not here.",
        "    location / { return 404; }",
        "  }",
        "  server {",
        f"    listen {config.public_host}:{config.dashboard_port} ssl;",
        f"    server_name {config.server_name};",
        *tls,
        "    location / {",
        "      limit_req zone=staff burst=30 nodelay;",
        "      proxy_pass http://dashboard;",
        proxy_headers,
        "    }",
        "  }",
        "}",
        "",
    ]
    return "\n".join(lines)


def _action_balancer(config: ProductionConfig, shape: NginxShape, proxy_headers: str) -> list[str]:
    return [
        "  upstream actions {",
        "    least_conn;",
        *[f"    server {server} max_fails=1 fail_timeout=3s;" for server in shape.action_servers],
        "    keepalive 32;",
        "  }",
        "  # The action servers' load balancer, for the Rasa servers only (never public). A request a",
        "  # worker could not finish (killed mid-request) is retried on another: every action is safe",
        "  # to run twice (answers are pure; a repeated escalation updates the conversation's record).",
        "  server {",
        f"    listen {shape.action_lb_listen};",
        "    access_log off;",
        # Trackers are large (every event of the session): keep them in memory, never in a
        # temp file (a body written to disk first costs tens of milliseconds per call).
        "    client_max_body_size 8m;",
        "    client_body_buffer_size 8m;",
        "    location = /webhook {",
        "      proxy_pass http://actions;",
        proxy_headers,
        "      proxy_next_upstream error timeout http_502 http_503 non_idempotent;",
        "      proxy_next_upstream_tries 3;",
        "    }",
        "    location = /health { proxy_pass http://actions; }",
        "    location / { return 404; }",
        "  }",
    ]


def _indent(lines: Sequence[str], spaces: int) -> str:
    return "\n".join(" " * spaces + line for line in lines)


def _nginx_quote(text: str) -> str:
    """A string safe inside nginx single quotes."""
    return text.replace("\\", "\\\\").replace("'", "\\'")


def endpoints(config: ProductionConfig, rt: Runtime) -> dict[str, Any]:
    """Rasa's endpoints: the action upstream, the PostgreSQL tracker store, the Redis lock store."""
    return endpoints_for(config, action_url=rt.action_url, postgres=rt.postgres, redis=rt.redis)


def endpoints_for(config: ProductionConfig, *, action_url: str, postgres: Postgres, redis: Redis) -> dict[str, Any]:
    """:func:`endpoints` for any addresses (the containers of ``deploy/`` use service names)."""
    rt = _Addresses(postgres, redis)
    return {
        # The secret comes from the environment of the Rasa server (never written to a file).
        "action_endpoint": {"url": action_url, "token": "${" + ENV_ACTION_TOKEN + "}"},
        "tracker_store": {
            "type": TRACKER_STORE_CLASS,
            "dialect": "postgresql",
            "url": rt.postgres.host,
            "port": rt.postgres.port,
            "db": config.tracker_database,
            "username": rt.postgres.user,
            "password": rt.postgres.password,
            "outage_wait_s": config.outage_wait_s,
        },
        "lock_store": {
            "type": LOCK_STORE_CLASS,
            "url": rt.redis.host,
            "port": rt.redis.port,
            "password": rt.redis.password,
            "db": rt.redis.db,
            "key_prefix": "mesoguide",
            "outage_wait_s": config.outage_wait_s,
        },
    }


@dataclass(frozen=True)
class _Addresses:
    postgres: Postgres
    redis: Redis


def write_private(path: Path, text: str) -> Path:
    """Write a file only its owner can read (it may hold passwords)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, 0o600)
    return path


def endpoints_yaml(config: ProductionConfig, rt: Runtime) -> str:
    """:func:`endpoints` as the YAML file Rasa reads."""
    header = "# Generated by mesoguide.production at each start (holds passwords: mode 0600).\n"
    return header + yaml.safe_dump(endpoints(config, rt), sort_keys=False)
