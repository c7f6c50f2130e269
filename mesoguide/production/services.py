"""What the production profile runs on this machine besides the Python servers: a PostgreSQL
cluster and a redis-server under the data directory (loopback, passwords), nginx, and the
self-signed certificate for a local try.

Each is a :class:`ServiceSpec` the supervisor starts, watches and stops; the one-time set-up
(``initdb``, the certificate, the secrets) happens here, before anything starts.
"""

from __future__ import annotations

import glob
import json
import os
import pwd
import random
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from mesoguide.production.render import Postgres, Redis, write_private

POSTGRES_SUPERUSER = "mesoguide"


@dataclass
class ServiceSpec:
    """One process of the profile.

    Attributes:
        name: Unique name (log file ``logs/<name>.log``).
        argv: Command line.
        env: Extra environment variables.
        user: Run as this user (when started by root), e.g. ``postgres``.
        stop_signal: What asks it to stop (SIGINT is PostgreSQL's fast shutdown).
        ready: Answers True once it serves requests.
        umask: File-creation mask: 0o077 by default (databases, logs and spools it writes hold
            patient data: owner only); nginx keeps its own (its workers run as another user).
    """

    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    user: str | None = None
    stop_signal: int = signal.SIGTERM
    ready: Callable[[], bool] | None = None
    umask: int = 0o077


class SetupError(RuntimeError):
    """A one-time set-up step failed (the message says which and why)."""


def _run(argv: list[str], *, user: str | None = None, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        user=user if os.geteuid() == 0 else None,
        env={**os.environ, **(env or {})},
    )
    if result.returncode != 0:
        raise SetupError(f"{Path(argv[0]).name} failed: {result.stdout}{result.stderr}".strip())
    return result.stdout


def tool(name: str, package: str) -> str:
    """Path of a program from a Debian package (PostgreSQL's live under /usr/lib/postgresql).

    Raises:
        SetupError: Not installed (``make run-production`` installs them).
    """
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    found = candidates[0] if candidates else shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if not found:
        raise SetupError(f"{name} not found: apt-get install {package} (make run-production does)")
    return found


# --- ports -------------------------------------------------------------------------------

#: Internal ports come from below Linux's ephemeral range (32768-60999): a port the kernel hands
#: to an outgoing connection or to another program's "any free port" cannot collide with one we
#: chose while a Rasa server spends half a minute loading before it binds.
QUIET_PORTS = range(20000, 32000)
_TAKEN: set[int] = set()


def quiet_port() -> int:
    """A loopback port below the ephemeral range that nobody listens on, not handed out before."""
    rng = random.SystemRandom()
    while True:
        port = rng.choice(QUIET_PORTS)
        if port in _TAKEN:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _TAKEN.add(port)
        return port


# --- secrets -------------------------------------------------------------------------------


def load_secrets(data: Path) -> dict[str, str]:
    """The profile's generated passwords and API token (``secrets.json``, mode 0600), made once."""
    path = data / "secrets.json"
    stored: dict[str, str] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    wanted = ("postgres_password", "redis_password", "api_token", "action_token", "rest_token")
    if any(key not in stored for key in wanted):
        stored = {key: stored.get(key) or secrets.token_urlsafe(24) for key in wanted}
        write_private(path, json.dumps(stored, indent=2))
    return stored


# --- TLS -------------------------------------------------------------------------------------


def self_signed_certificate(directory: Path, server_name: str) -> tuple[Path, Path]:
    """A self-signed certificate for ``server_name`` (and 127.0.0.1), made when missing or
    expiring within a day. Browsers warn about it: for a local try only."""
    cert, key = directory / f"{server_name}.crt", directory / f"{server_name}.key"
    if cert.exists() and key.exists():
        check = subprocess.run(
            ["openssl", "x509", "-checkend", "86400", "-noout", "-in", str(cert)], capture_output=True, check=False
        )
        if check.returncode == 0:
            return cert, key
    directory.mkdir(parents=True, exist_ok=True)
    san = f"DNS:{server_name},IP:127.0.0.1" if not server_name.replace(".", "").isdigit() else f"IP:{server_name}"
    _run(
        [
            tool("openssl", "openssl"),
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "30",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            f"/CN={server_name}",
            "-addext",
            f"subjectAltName={san}",
        ]
    )
    os.chmod(key, 0o600)
    return cert, key


# --- PostgreSQL ------------------------------------------------------------------------------


class ManagedPostgres:
    """A PostgreSQL cluster in ``directory`` (made once with ``initdb``), password auth only,
    listening on 127.0.0.1. PostgreSQL refuses to run as root: when we are root, the cluster
    belongs to the ``postgres`` user and runs as it.

    Args:
        directory: Where the cluster lives (``<data_dir>/postgres``).
        password: The superuser's password.
        port: Loopback port for this run.
    """

    def __init__(self, directory: Path, *, password: str, port: int) -> None:
        self.directory = directory
        self.cluster = directory / "data"
        self.password = password
        self.port = port
        self.user = "postgres" if os.geteuid() == 0 else None

    @property
    def server(self) -> Postgres:
        """How to connect."""
        return Postgres(host="127.0.0.1", port=self.port, user=POSTGRES_SUPERUSER, password=self.password)

    def initialise(self) -> None:
        """``initdb`` once (scram-sha-256 for every connection, the password from secrets)."""
        if (self.cluster / "PG_VERSION").exists():
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        pwfile = self.directory / "initdb-password"
        write_private(pwfile, self.password + "\n")
        if self.user:
            for path in (self.directory, pwfile):
                shutil.chown(path, self.user, self.user)
        os.chmod(self.directory, 0o700)
        try:
            _run(
                [
                    tool("initdb", "postgresql"),
                    "-D",
                    str(self.cluster),
                    "-U",
                    POSTGRES_SUPERUSER,
                    "-A",
                    "scram-sha-256",
                    f"--pwfile={pwfile}",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ],
                user=self.user,
            )
        finally:
            pwfile.unlink(missing_ok=True)

    def spec(self) -> ServiceSpec:
        """The server process (foreground; SIGINT is a fast shutdown that keeps every committed row)."""
        socket_dir = self.directory / "run"
        socket_dir.mkdir(exist_ok=True)
        if self.user:
            shutil.chown(socket_dir, self.user, self.user)
        return ServiceSpec(
            name="postgres",
            argv=[
                tool("postgres", "postgresql"),
                "-D",
                str(self.cluster),
                "-p",
                str(self.port),
                "-k",
                str(socket_dir),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "max_connections=200",
            ],
            user=self.user,
            stop_signal=signal.SIGINT,
            ready=self.answers,
        )

    def answers(self) -> bool:
        """True once a password login works."""
        import psycopg2

        try:
            psycopg2.connect(
                host="127.0.0.1",
                port=self.port,
                user=POSTGRES_SUPERUSER,
                password=self.password,
                dbname="postgres",
                connect_timeout=2,
            ).close()
            return True
        except psycopg2.Error:
            return False


def ensure_databases(server: Postgres, names: list[str]) -> None:
    """Create the databases that do not exist yet."""
    import psycopg2

    conn = psycopg2.connect(
        host=server.host, port=server.port, user=server.user, password=server.password, dbname="postgres", connect_timeout=5
    )
    try:
        conn.autocommit = True
        with conn.cursor() as cursor:
            for name in names:
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
                if cursor.fetchone() is None:
                    cursor.execute(f'CREATE DATABASE "{name}"')
    finally:
        conn.close()


# --- Redis -------------------------------------------------------------------------------------


class ManagedRedis:
    """A redis-server on 127.0.0.1 with a password and no persistence (locks only live while
    a message is handled; nothing is lost when it restarts empty).

    Args:
        directory: Its working directory and configuration file (mode 0600: it holds the password).
        password: ``requirepass``.
        port: Loopback port for this run.
    """

    def __init__(self, directory: Path, *, password: str, port: int) -> None:
        self.directory = directory
        self.password = password
        self.port = port

    @property
    def server(self) -> Redis:
        """How to connect."""
        return Redis(host="127.0.0.1", port=self.port, password=self.password)

    def spec(self) -> ServiceSpec:
        """The server process, configured through a private file (no password in ``ps``)."""
        conf = write_private(
            self.directory / "redis.conf",
            "\n".join(
                [
                    f"port {self.port}",
                    "bind 127.0.0.1",
                    "protected-mode yes",
                    f"requirepass {self.password}",
                    'save ""',
                    "appendonly no",
                    f"dir {self.directory}",
                    "daemonize no",
                    'logfile ""',
                    "",
                ]
            ),
        )
        return ServiceSpec(name="redis", argv=[tool("redis-server", "redis-server"), str(conf)], ready=self.answers)

    def answers(self) -> bool:
        """True once it answers PING with the password."""
        import redis

        try:
            return bool(redis.Redis(host="127.0.0.1", port=self.port, password=self.password, socket_timeout=1).ping())
        except redis.exceptions.RedisError:
            return False


# --- nginx ---------------------------------------------------------------------------------------


def nginx_user() -> str | None:
    """The user nginx's workers drop to when root starts it (Debian's ``www-data``)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("www-data")
        return "www-data"
    except KeyError:
        return "nobody"


def prepare_nginx(data: Path, user: str | None) -> None:
    """nginx's temp directories, writable by its workers."""
    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        path = data / "nginx" / "tmp" / kind
        path.mkdir(parents=True, exist_ok=True)
        if user:
            shutil.chown(path, user)


def nginx_spec(conf: Path, ready: Callable[[], bool]) -> ServiceSpec:
    """nginx in the foreground (``daemon off`` in the file); SIGQUIT finishes open requests first."""
    return ServiceSpec(
        name="nginx",
        argv=[tool("nginx", "nginx"), "-c", str(conf), "-p", str(conf.parent)],
        stop_signal=signal.SIGQUIT,
        ready=ready,
        umask=0o022,
    )


def check_nginx(conf: Path) -> None:
    """``nginx -t`` on the rendered file.

    Raises:
        SetupError: nginx rejects it (its message says where).
    """
    _run([tool("nginx", "nginx"), "-t", "-q", "-c", str(conf), "-p", str(conf.parent)])


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``check`` until True.

    Raises:
        SetupError: Still False after ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SetupError(f"{what} did not answer within {timeout:.0f} s")
        time.sleep(0.2)
