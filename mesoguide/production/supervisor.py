"""Start, watch and stop every process of the production profile on one machine.

:class:`Supervisor` runs processes and restarts one that exits (after 1 s, doubling to 30 s
while it keeps failing); :class:`ProductionStack` knows the profile: it prepares the data
directory (secrets, certificate, PostgreSQL cluster), renders the configuration, starts the
processes in order, waits until each answers and stops them in reverse order.

CLI: ``python -m mesoguide.production run`` (``make run-production``).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import IO

from mesoguide.channels.credentials import write_credentials
from mesoguide.channels.webchat import ENV_SOCKETIO_REDIS_URL
from mesoguide.knowledge import default_knowledge
from mesoguide.paths import REPO_ROOT
from mesoguide.production import render
from mesoguide.production.config import ProductionConfig
from mesoguide.production.services import (
    ManagedPostgres,
    ManagedRedis,
    ServiceSpec,
    SetupError,
    check_nginx,
    ensure_databases,
    load_secrets,
    nginx_spec,
    nginx_user,
    prepare_nginx,
    quiet_port,
    self_signed_certificate,
    wait_until,
)
from mesoguide.runtime.action_auth import ENV_ACTION_TOKEN
from mesoguide.runtime.http_guard import ENV_REST_TOKEN
from mesoguide.runtime.rasa_server import ENV_API_TOKEN

logger = logging.getLogger(__name__)

READY_TIMEOUT_S = 240.0
RESTART_BACKOFF_S = (1.0, 30.0)  # first delay, longest delay
SPOOL_DRAIN_EVERY_S = 5.0


class Supervisor:
    """Runs :class:`ServiceSpec` processes, restarts the ones that exit, stops them all.

    Args:
        log_dir: Each process writes ``<name>.log`` here.
        env: Environment of every process (on top of this process's own).
        on_event: Called with a one-line message when a process exits or restarts.
    """

    def __init__(self, *, log_dir: Path, env: dict[str, str], on_event: Callable[[str], None] = print) -> None:
        self.log_dir = log_dir
        self.env = env
        self.on_event = on_event
        self.specs: dict[str, ServiceSpec] = {}
        self.procs: dict[str, subprocess.Popen] = {}
        self.restarts: dict[str, int] = {}
        self._held: set[str] = set()
        self._due: dict[str, float] = {}
        self._delay: dict[str, float] = {}
        self._started_at: dict[str, float] = {}
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.periodic: list[Callable[[], None]] = []

    def start(self, spec: ServiceSpec) -> None:
        """Start a process and watch it from now on."""
        with self._lock:
            self.specs[spec.name] = spec
            self._spawn(spec)

    def _spawn(self, spec: ServiceSpec) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log: IO[bytes] = open(self.log_dir / f"{spec.name}.log", "ab")  # noqa: SIM115 - handed to the child
        try:
            self.procs[spec.name] = subprocess.Popen(
                spec.argv,
                cwd=REPO_ROOT,
                env={**os.environ, **self.env, **spec.env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                user=spec.user if spec.user and os.geteuid() == 0 else None,
                umask=spec.umask,
            )
        finally:
            log.close()
        self._started_at[spec.name] = time.monotonic()

    def watch(self) -> None:
        """Restart exited processes from a background thread until :meth:`stop_all`."""
        self._thread = threading.Thread(target=self._watch, name="supervisor", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        last_periodic = time.monotonic()
        while not self._stopping.wait(0.25):
            with self._lock:
                for name, proc in list(self.procs.items()):
                    if name in self._held or proc.poll() is None:
                        continue
                    now = time.monotonic()
                    if name not in self._due:
                        first, longest = RESTART_BACKOFF_S
                        # A process that ran a while is restarted quickly again; one that keeps
                        # dying waits longer each time.
                        ran = now - self._started_at.get(name, now)
                        delay = first if ran > 60 else min(longest, self._delay.get(name, first / 2) * 2)
                        self._delay[name] = delay
                        self._due[name] = now + delay
                        self.on_event(f"{name} exited with code {proc.returncode}; restarting in {delay:.0f} s")
                    elif now >= self._due[name]:
                        del self._due[name]
                        self.restarts[name] = self.restarts.get(name, 0) + 1
                        self._spawn(self.specs[name])
                        self.on_event(f"{name} restarted (pid {self.procs[name].pid})")
            if time.monotonic() - last_periodic >= SPOOL_DRAIN_EVERY_S:
                last_periodic = time.monotonic()
                for job in self.periodic:
                    try:
                        job()
                    except Exception:  # a periodic job must not stop the watching
                        logger.exception("periodic job failed")

    def hold(self, name: str) -> None:
        """Stop a process and keep it stopped until :meth:`release` (outage drills)."""
        with self._lock:
            self._held.add(name)
            self._stop_one(name, timeout=20)

    def release(self, name: str) -> None:
        """Start a held process again."""
        with self._lock:
            self._held.discard(name)
            self._spawn(self.specs[name])

    def pid(self, name: str) -> int:
        """Process id of a running process."""
        return self.procs[name].pid

    def running(self, name: str) -> bool:
        """Whether the process is alive right now."""
        proc = self.procs.get(name)
        return proc is not None and proc.poll() is None

    def _stop_one(self, name: str, timeout: float) -> None:
        proc = self.procs.get(name)
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, self.specs[name].stop_signal)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def stop_all(self, timeout: float = 20.0) -> None:
        """Stop watching, then stop every process, the last started first."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(5)
        with self._lock:
            for name in reversed(list(self.procs)):
                self._stop_one(name, timeout)
            self.procs.clear()


class ProductionStack:
    """The production profile on this machine.

    Args:
        config: The settings (``production.yml`` + environment).
        model: The trained model (file or directory).
        extra_env: More environment for every MesoGuide process (notification settings, ...).
        on_event: Where process exits and restarts are reported.
    """

    def __init__(
        self,
        config: ProductionConfig,
        *,
        model: Path = REPO_ROOT / "models",
        extra_env: dict[str, str] | None = None,
        on_event: Callable[[str], None] = print,
    ) -> None:
        self.config = config
        self.model = model
        self.data = config.data_path
        self.extra_env = extra_env or {}
        self.on_event = on_event
        self.runtime: render.Runtime | None = None
        self.supervisor: Supervisor | None = None
        self.channels: list[str] = []
        self._postgres: ManagedPostgres | None = None
        self._redis: ManagedRedis | None = None
        self.secrets: dict[str, str] = {}

    # --- set-up ----------------------------------------------------------------------------------

    def prepare(self) -> render.Runtime:
        """Secrets, certificate, ports, PostgreSQL cluster; returns this run's runtime record."""
        cfg, data = self.config, self.data
        for sub in ("logs", "spool", "tls"):
            (data / sub).mkdir(parents=True, exist_ok=True)
        secrets = self.secrets = load_secrets(data)
        if cfg.tls_certificate:
            cert, key = Path(cfg.tls_certificate), Path(cfg.tls_certificate_key)
        else:
            cert, key = self_signed_certificate(data / "tls", cfg.server_name)
        if cfg.managed_postgres:
            self._postgres = ManagedPostgres(data / "postgres", password=secrets["postgres_password"], port=quiet_port())
            self._postgres.initialise()
            postgres = self._postgres.server
        else:
            postgres = _postgres_from_url(cfg.postgres_url)
        if cfg.managed_redis:
            self._redis = ManagedRedis(data / "redis", password=secrets["redis_password"], port=quiet_port())
            self._redis.directory.mkdir(parents=True, exist_ok=True)
            redis = self._redis.server
        else:
            redis = _redis_from_url(cfg.redis_url)
        user = nginx_user()
        prepare_nginx(data, user)
        self.runtime = render.Runtime(
            rasa_ports=tuple(quiet_port() for _ in range(cfg.rasa_replicas)),
            action_ports=tuple(quiet_port() for _ in range(cfg.action_workers)),
            action_lb_port=quiet_port(),
            dashboard_port=quiet_port(),
            postgres=postgres,
            redis=redis,
            api_token=secrets["api_token"],
            tls_certificate=cert,
            tls_certificate_key=key,
            data=data,
            nginx_user=user,
        )
        return self.runtime

    @property
    def escalation_url(self) -> str:
        """SQLAlchemy URL of the escalation database."""
        assert self.runtime is not None
        return self.runtime.postgres.url(self.config.escalation_database)

    @property
    def tracker_url(self) -> str:
        """SQLAlchemy URL of the tracker database (retention and erasure read it)."""
        assert self.runtime is not None
        return self.runtime.postgres.url(self.config.tracker_database)

    def process_env(self) -> dict[str, str]:
        """Environment of every MesoGuide process."""
        assert self.runtime is not None
        return {
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": str(REPO_ROOT),
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "RASA_TELEMETRY_ENABLED": "false",
            "SANIC_HOST": "127.0.0.1",
            "MESOGUIDE_DATABASE_URL": self.escalation_url,
            "MESOGUIDE_TRACKER_URL": self.tracker_url,
            "MESOGUIDE_DASHBOARD_URL": self.config.dashboard_url,
            "MESOGUIDE_DASHBOARD_SECURE_COOKIES": "1",
            # The dashboard's live chats reach any Rasa server; socket.io shares rooms via Redis.
            "MESOGUIDE_RASA_URL": ",".join(f"http://127.0.0.1:{port}" for port in self.runtime.rasa_ports),
            ENV_SOCKETIO_REDIS_URL: self.runtime.redis.url(),
            # The action servers run only calls with this secret; the Rasa servers send it
            # (endpoints.yml reads it from the environment). REST needs the REST token.
            ENV_ACTION_TOKEN: self.secrets["action_token"],
            ENV_REST_TOKEN: self.secrets["rest_token"],
            ENV_API_TOKEN: self.secrets["api_token"],
            **self.extra_env,
        }

    # --- start / stop ----------------------------------------------------------------------------

    def start(self) -> float:
        """Prepare, start everything, wait until every part answers; returns the seconds taken.

        Raises:
            SetupError: A step failed or a process did not answer (its log is named).
        """
        started = time.monotonic()
        rt = self.runtime or self.prepare()
        cfg, data = self.config, self.data
        self.supervisor = sup = Supervisor(log_dir=data / "logs", env=self.process_env(), on_event=self.on_event)
        try:
            if self._postgres:
                sup.start(self._postgres.spec())
                wait_until(self._postgres.answers, 60, f"PostgreSQL (see {data / 'logs' / 'postgres.log'})")
            ensure_databases(rt.postgres, [cfg.tracker_database, cfg.escalation_database])
            if self._redis:
                sup.start(self._redis.spec())
                wait_until(self._redis.answers, 30, f"Redis (see {data / 'logs' / 'redis.log'})")
            _migrate(self.escalation_url)
            endpoints = render.write_private(data / "endpoints.yml", render.endpoints_yaml(cfg, rt))
            credentials = data / "credentials.yml"
            self.channels = write_credentials(credentials, {**os.environ, **self.extra_env})
            conf = data / "nginx" / "nginx.conf"
            conf.write_text(render.nginx_conf(cfg, rt.nginx_shape(), default_knowledge()), encoding="utf-8")
            check_nginx(conf)
            for index, port in enumerate(rt.action_ports):
                sup.start(
                    ServiceSpec(
                        name=f"actions-{index + 1}",
                        argv=[sys.executable, "-m", "mesoguide.production.action_server", "--port", str(port)],
                        env={"MESOGUIDE_ESCALATION_SPOOL": str(data / "spool" / f"actions-{index + 1}.jsonl")},
                        ready=_answers_health(f"http://127.0.0.1:{port}/health"),
                    )
                )
            for index, port in enumerate(rt.rasa_ports):
                sup.start(
                    ServiceSpec(
                        name=f"rasa-{index + 1}",
                        argv=[
                            sys.executable,
                            "-m",
                            "mesoguide.runtime.rasa_server",
                            "run",
                            "--model",
                            str(self.model),
                            "--endpoints",
                            str(endpoints),
                            "--credentials",
                            str(credentials),
                            "--interface",
                            "127.0.0.1",
                            "--port",
                            str(port),
                            "--enable-api",
                            "--cors",
                            *cfg.cors_origins.split(),
                        ],
                        ready=_answers_status(f"http://127.0.0.1:{port}/status?token={rt.api_token}"),
                    )
                )
            sup.start(ServiceSpec(name="notifier", argv=[sys.executable, "-m", "mesoguide.escalations", "notify"]))
            sup.start(
                ServiceSpec(
                    name="dashboard",
                    argv=[sys.executable, "-m", "mesoguide.dashboard", "--host", "127.0.0.1", "--port", str(rt.dashboard_port)],
                    ready=_answers_health(f"http://127.0.0.1:{rt.dashboard_port}/health"),
                )
            )
            sup.start(nginx_spec(conf, ready=_answers_tls(f"https://127.0.0.1:{cfg.public_port}/webhooks/webchat/widget.js")))
            sup.periodic.append(self.drain_spool)
            self._wait_ready(started)
            self._warm_up()
            sup.watch()
        except BaseException:
            self.stop()
            raise
        return time.monotonic() - started

    def _wait_ready(self, started: float) -> None:
        assert self.supervisor is not None
        pending = {name: spec.ready for name, spec in self.supervisor.specs.items() if spec.ready is not None}
        while pending:
            for name, ready in list(pending.items()):
                if not self.supervisor.running(name):
                    log = self.data / "logs" / (name + ".log")
                    raise SetupError(f"{name} exited during start-up; see {log}. Its last lines:\n{_tail(log)}")
                if ready():
                    del pending[name]
            if time.monotonic() - started > READY_TIMEOUT_S:
                raise SetupError(f"not ready after {READY_TIMEOUT_S:.0f} s: {sorted(pending)}; see {self.data / 'logs'}")
            if pending:
                time.sleep(0.5)

    def _warm_up(self) -> None:
        """Parse a message on every Rasa server (the first inference builds TensorFlow's graph),
        so the first patient does not pay for it. Nothing is stored."""
        assert self.runtime is not None
        for port in self.runtime.rasa_ports:
            for text in ("hello", "how many sessions do I need?"):
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/model/parse?token={self.runtime.api_token}",
                    data=json.dumps({"text": text}).encode(),
                    headers={"Content-Type": "application/json"},
                    method="POST",
                )
                with urllib.request.urlopen(request, timeout=30) as response:
                    response.read()

    def stop(self) -> None:
        """Stop every process (the last started first)."""
        if self.supervisor is not None:
            self.supervisor.stop_all()

    def drain_spool(self) -> None:
        """Store escalations the action servers had to spool while the database was away.

        Each live spool file is first renamed (new escalations go to a fresh file), then
        imported with ``python -m mesoguide.escalations import-spool``, which renames it
        ``*.imported-<time>`` once stored; a failed import is retried at the next round.
        """
        spool = self.data / "spool"
        for live in spool.glob("*.jsonl"):
            if live.stat().st_size:
                live.rename(live.with_name(f"{live.name}.pending-{time.time_ns()}"))
        for pending in sorted(spool.glob("*.jsonl.pending-*")):
            if ".imported-" in pending.name:
                continue
            time.sleep(0.2)  # an append that opened the file just before the rename finishes
            result = subprocess.run(
                [sys.executable, "-m", "mesoguide.escalations", "import-spool", str(pending)],
                cwd=REPO_ROOT,
                env={**os.environ, **self.process_env()},
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            self.on_event(
                f"spooled escalations {'stored' if result.returncode == 0 else 'NOT stored yet (will retry)'}: "
                f"{(result.stdout or result.stderr).strip().splitlines()[-1:]}"
            )

    def pids(self) -> dict[str, int]:
        """Process ids by name."""
        assert self.supervisor is not None
        return {name: proc.pid for name, proc in self.supervisor.procs.items()}

    @property
    def public_url(self) -> str:
        """The public https URL (loopback address when listening on every interface)."""
        host = "127.0.0.1" if self.config.public_host in {"0.0.0.0", "::"} else self.config.public_host
        return f"https://{host}:{self.config.public_port}"


def _migrate(url: str) -> None:
    from mesoguide.escalations.migrations import migrate
    from mesoguide.escalations.store import make_engine

    engine = make_engine(url)
    try:
        migrate(engine)
    finally:
        engine.dispose()


def _postgres_from_url(url: str) -> render.Postgres:
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url)
    return render.Postgres(
        host=parts.hostname or "",
        port=parts.port or 5432,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
    )


def _redis_from_url(url: str) -> render.Redis:
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url)
    return render.Redis(
        host=parts.hostname or "",
        port=parts.port or 6379,
        password=unquote(parts.password or ""),
        db=int((parts.path or "/0").strip("/") or 0),
    )


def _get(url: str, context: ssl.SSLContext | None = None) -> bytes | None:
    try:
        with urllib.request.urlopen(url, timeout=2, context=context) as response:
            return response.read() if response.status == 200 else None
    except (urllib.error.URLError, OSError, ValueError):
        return None


def _answers_health(url: str) -> Callable[[], bool]:
    def check() -> bool:
        body = _get(url)
        try:
            return body is not None and json.loads(body).get("status") == "ok"
        except ValueError:
            return False

    return check


def _answers_status(url: str) -> Callable[[], bool]:
    def check() -> bool:
        body = _get(url)
        try:
            return body is not None and bool(json.loads(body).get("model_file"))
        except ValueError:
            return False

    return check


def _answers_tls(url: str) -> Callable[[], bool]:
    # A loopback probe of nginx itself: the certificate names the public host, not 127.0.0.1.
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return lambda: _get(url, context) is not None


def _tail(path: Path, lines: int = 15) -> str:
    """The last lines of a service's log (a start-up error says why without the file)."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError as exc:
        return f"(no log: {exc.strerror})"
