"""Start, watch and stop the action server and the Rasa server together, and what a clinic
needs next to them: the escalation notifier and the staff dashboard.

One mechanism for ``make run``, ``make shell`` and the end-to-end tests, so what the tests
start is what a clinic runs. Every server binds to loopback; the Rasa HTTP API (tracker
read-out) is on and protected by a token. The escalation database is migrated once before
anything starts, so the processes never race to create the schema.

CLI::

    python -m mesoguide.stack run     # both servers; Ctrl-C stops both
    python -m mesoguide.stack shell   # action server + `rasa shell` in this terminal
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from mesoguide.channels.credentials import ChannelConfigError, write_credentials
from mesoguide.paths import REPO_ROOT, knowledge_dir
from mesoguide.runtime.action_auth import ENV_ACTION_TOKEN
from mesoguide.runtime.rasa_server import ENV_API_TOKEN

READY_TIMEOUT_S = 180.0


@dataclass(frozen=True)
class StackConfig:
    """Where and how the two servers run.

    Attributes:
        model: The trained model (a file or the ``models/`` directory).
        endpoints: The endpoints file; its action URL must match ``action_port``.
        credentials: Where the channels file is written at start, from the environment
            (:mod:`mesoguide.channels.credentials`; channels whose variables are unset are off).
        rasa_port: Port of the Rasa server.
        action_port: Port of the action server.
        auth_token: Token for the Rasa HTTP API (``?token=``).
        log_dir: Where each server's output goes.
        host: Interface both servers bind to.
        env: Extra environment variables for every process (e.g. ``MESOGUIDE_DATABASE_URL``,
            the notification settings).
        dashboard_port: Port of the staff dashboard.
        action_token: The secret the Rasa server sends with every action call and the action
            server requires (``MESOGUIDE_ACTION_TOKEN``; endpoints.yml reads it from there).
        cors_origins: Web origins allowed to call the Rasa server from a browser (default: its
            own origin, where the widget's demo page is served).
    """

    model: Path
    endpoints: Path
    credentials: Path
    rasa_port: int = 5005
    action_port: int = 5055
    auth_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    log_dir: Path = REPO_ROOT / "build" / "logs"
    host: str = "127.0.0.1"
    env: dict[str, str] = field(default_factory=dict)
    dashboard_port: int = 5070
    action_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    cors_origins: tuple[str, ...] = ()

    @property
    def dashboard_url(self) -> str:
        """Base URL of the staff dashboard."""
        return f"http://{self.host}:{self.dashboard_port}"

    @property
    def rasa_url(self) -> str:
        """Base URL of the Rasa server."""
        return f"http://{self.host}:{self.rasa_port}"

    @property
    def widget_page_url(self) -> str:
        """The demo clinic page with the chat widget on it."""
        return f"{self.rasa_url}/webhooks/webchat/demo"

    @property
    def action_url(self) -> str:
        """Base URL of the action server."""
        return f"http://{self.host}:{self.action_port}"


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def isolated_config(
    directory: Path, *, model: Path = REPO_ROOT / "models", env: dict[str, str] | None = None
) -> StackConfig:
    """A stack on free ports with its own tracker and escalation databases and logs under
    ``directory``.

    For tests and benchmarks: nothing is shared with a `make run` on the same machine.
    ``env`` adds or overrides environment variables for every server (channel settings,
    notification settings, ...).
    """
    action_port, rasa_port, dashboard_port = free_port(), free_port(), free_port()
    endpoints = directory / "endpoints.yml"
    endpoints.write_text(
        f'action_endpoint:\n  url: "http://127.0.0.1:{action_port}/webhook"\n  token: ${{{ENV_ACTION_TOKEN}}}\n'
        f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {directory / 'tracker.db'}\n",
        encoding="utf-8",
    )
    return StackConfig(
        model=model,
        endpoints=endpoints,
        credentials=directory / "credentials.yml",
        rasa_port=rasa_port,
        action_port=action_port,
        log_dir=directory / "logs",
        dashboard_port=dashboard_port,
        env={
            "MESOGUIDE_DATABASE_URL": f"sqlite:///{directory / 'escalations.db'}",
            "MESOGUIDE_ESCALATION_SPOOL": str(directory / "escalations-unsaved.jsonl"),
            "MESOGUIDE_TRACKER_URL": f"sqlite:///{directory / 'tracker.db'}",
            "MESOGUIDE_DASHBOARD_URL": f"http://127.0.0.1:{dashboard_port}",
            **(env or {}),
        },
    )


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MB (Linux /proc)."""
    total = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue
        if int(fields.get("Pid", "0")) == pid or int(fields.get("PPid", "0")) == pid:
            total += int(fields.get("VmRSS", "0 kB").split()[0])
    return total / 1024


def rasa_server_argv(cfg: StackConfig) -> list[str]:
    """The command line of the Rasa server for ``cfg``."""
    # Rasa's own CLI, started through the project's entry point: the never-silent path, the
    # HTTP front door and the speed-ups are applied (mesoguide/runtime/rasa_server.py). The API
    # token goes through the environment, never the command line (RASA_AUTH_TOKEN).
    return [
        sys.executable, "-m", "mesoguide.runtime.rasa_server", "run",
        "--model", str(cfg.model),
        "--endpoints", str(cfg.endpoints),
        "--credentials", str(cfg.credentials),
        "--interface", cfg.host,
        "--port", str(cfg.rasa_port),
        "--enable-api",
        "--cors", *(cfg.cors_origins or (cfg.rasa_url,)),
    ]


def action_server_argv(cfg: StackConfig) -> list[str]:
    """The command line of the action server for ``cfg`` (loopback, shared secret, no TensorFlow)."""
    return [sys.executable, "-m", "mesoguide.production.action_server", "--port", str(cfg.action_port)]


def _rasa_bin() -> str:
    return str(Path(sys.executable).with_name("rasa"))


class Stack:
    """The running pair of servers. Use as a context manager, or call start/stop.

    Args:
        config: Where and how to run them.
        clinic: As a context manager, also start the notifier and the staff dashboard.
    """

    def __init__(self, config: StackConfig, *, clinic: bool = False) -> None:
        self.config = config
        self.clinic = clinic
        self._procs: dict[str, subprocess.Popen] = {}
        self._argv: dict[str, list[str]] = {}
        self._restart_at: dict[str, float] = {}
        self.channels: list[str] = []

    def __enter__(self) -> Stack:
        self.start(clinic=self.clinic)
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, exc_type: type | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def start(self, *, rasa: bool = True, clinic: bool = False) -> None:
        """Start the action server, (unless ``rasa=False``) the Rasa server, and (with
        ``clinic=True``) the notifier and the staff dashboard.

        Raises:
            ChannelConfigError: A messaging channel is half-configured (nothing is started).
        """
        cfg = self.config
        if rasa:
            self.channels = write_credentials(cfg.credentials, {**os.environ, **cfg.env})
        migrate_escalations(cfg.env)
        if clinic:
            self._spawn("notifier", [sys.executable, "-m", "mesoguide.escalations", "notify"])
            self._spawn(
                "dashboard",
                [sys.executable, "-m", "mesoguide.dashboard", "--host", cfg.host, "--port", str(cfg.dashboard_port)],
            )
        self._spawn("actions", action_server_argv(cfg))
        if rasa:
            self._spawn("rasa", rasa_server_argv(cfg))

    def _spawn(self, name: str, argv: list[str]) -> None:
        cfg = self.config
        cfg.log_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        log_path = cfg.log_dir / f"{name}.log"
        log_path.touch(mode=0o600, exist_ok=True)
        log = open(log_path, "ab")  # noqa: SIM115 - owned by the process
        self._argv[name] = argv
        # PYTHONPATH: the servers run this checkout's code (a git worktree next to the one the
        # virtualenv's editable install points at runs its own actions and components).
        env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": str(REPO_ROOT),
            ENV_ACTION_TOKEN: cfg.action_token,
            ENV_API_TOKEN: cfg.auth_token,
            "MESOGUIDE_RASA_URL": cfg.rasa_url,  # the dashboard's live chats
            **cfg.env,
        }
        # A process group of its own, so Ctrl-C in the terminal reaches us once and we stop
        # each server in order instead of both dying mid-write.
        self._procs[name] = subprocess.Popen(
            argv, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
            # Databases, spools and logs the servers create hold patient data: owner only.
            umask=0o077,
        )

    def log_path(self, name: str) -> Path:
        """The log file of a server (``actions`` or ``rasa``)."""
        return self.config.log_dir / f"{name}.log"

    def wait_ready(self, timeout: float = READY_TIMEOUT_S) -> float:
        """Block until every started server answers; return the seconds it took.

        Raises:
            RuntimeError: A server exited, or did not answer in time (its log is named).
        """
        started = time.monotonic()
        checks = {"actions": f"{self.config.action_url}/health"}
        if "dashboard" in self._procs:
            checks["dashboard"] = f"{self.config.dashboard_url}/health"
        if "rasa" in self._procs:
            checks["rasa"] = f"{self.config.rasa_url}/status?token={self.config.auth_token}"
        pending = dict(checks)
        while pending:
            if "notifier" in self._procs and self._procs["notifier"].poll() is not None:
                code = self._procs["notifier"].returncode
                raise RuntimeError(f"notifier exited with code {code}; see {self.log_path('notifier')}")
            for name, url in list(pending.items()):
                proc = self._procs[name]
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} server exited with code {proc.returncode}; see {self.log_path(name)}")
                if _answers(url):
                    del pending[name]
            if time.monotonic() - started > timeout:
                raise RuntimeError(f"not ready after {timeout:.0f} s: {sorted(pending)}; see {self.config.log_dir}")
            if pending:
                time.sleep(0.5)
        return time.monotonic() - started

    def stop(self, timeout: float = 20.0) -> None:
        """Stop every server: SIGTERM, then SIGKILL for one that does not exit in time."""
        for proc in self._procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for proc in self._procs.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self._procs.clear()

    def pids(self) -> dict[str, int]:
        """Process ids of the running servers."""
        return {name: proc.pid for name, proc in self._procs.items()}

    def exited(self) -> str | None:
        """The name of a server that has exited, if any."""
        return next((n for n, p in self._procs.items() if p.poll() is not None), None)

    def restart(self, name: str) -> int | None:
        """Start a server that exited again, with the command line it had; its exit code."""
        code = self._procs[name].poll()
        self._spawn(name, self._argv[name])
        return code

    def supervise(self, backoff: Backoff, now: float | None = None) -> list[str]:
        """One round of supervision (call it every half second): a server that exited is
        started again after its back-off delay. Returns what happened, one line per event."""
        now = time.monotonic() if now is None else now
        events = []
        for name, proc in list(self._procs.items()):
            if proc.poll() is None:
                continue
            due = self._restart_at.get(name)
            if due is None:
                delay = backoff.next_delay(name, now)
                self._restart_at[name] = now + delay
                events.append(f"the {name} server stopped unexpectedly (exit code {proc.returncode}); "
                              f"restarting it in {delay:.0f} s (see {self.log_path(name)})")
            elif now >= due:
                del self._restart_at[name]
                code = self.restart(name)
                backoff.started(name, now)
                events.append(f"restarted the {name} server (it had exited with code {code})")
        return events


class Backoff:
    """Delays between restarts of one server: doubling from ``first_s`` up to ``max_s``, back to
    ``first_s`` once it has run ``stable_s`` without exiting."""

    def __init__(self, *, first_s: float = 1.0, max_s: float = 30.0, stable_s: float = 60.0) -> None:
        self.first_s, self.max_s, self.stable_s = first_s, max_s, stable_s
        self._delay: dict[str, float] = {}
        self._started: dict[str, float] = {}

    def next_delay(self, name: str, now: float) -> float:
        """The wait before restarting ``name``, which exited at ``now``."""
        ran = now - self._started.get(name, now)
        delay = self.first_s if ran >= self.stable_s else min(self.max_s, self._delay.get(name, self.first_s / 2) * 2)
        self._delay[name] = delay
        return delay

    def started(self, name: str, now: float) -> None:
        """Note that ``name`` was (re)started at ``now``."""
        self._started[name] = now


def migrate_escalations(env: dict[str, str]) -> None:
    """Create/upgrade the escalation database the processes will share, once, up front."""
    from mesoguide.escalations import EscalationConfig
    from mesoguide.escalations.migrations import migrate
    from mesoguide.escalations.store import make_engine

    config = EscalationConfig.from_env({**os.environ, **env})
    engine = make_engine(config.database_url)
    previous = os.umask(0o077)  # a SQLite file created here holds patient data: owner only
    try:
        migrate(engine)
    finally:
        os.umask(previous)
        engine.dispose()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            body = response.read()
            if url.endswith("/health"):
                return json.loads(body).get("status") == "ok"
            return bool(json.loads(body).get("model_file"))
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _default_config() -> StackConfig:
    return StackConfig(
        model=REPO_ROOT / "models",
        endpoints=REPO_ROOT / "endpoints.yml",
        credentials=REPO_ROOT / "build" / "credentials.yml",
        auth_token=os.environ.get("RASA_AUTH_TOKEN") or secrets.token_urlsafe(24),
        action_token=os.environ.get(ENV_ACTION_TOKEN) or secrets.token_urlsafe(32),
        cors_origins=tuple(os.environ.get("MESOGUIDE_CORS_ORIGINS", "").split()),
    )


def _check_knowledge() -> bool:
    """Stop before starting anything if knowledge/ is broken; warn about example clinic facts and
    anything else that stops a release (`make run` works with the example clinic; production does not)."""
    from mesoguide.errors import KnowledgeError
    from mesoguide.knowledge import default_knowledge
    from mesoguide.knowledge.release import release_problems

    try:
        kb = default_knowledge()
    except KnowledgeError as exc:
        print(f"knowledge check failed: {exc}", file=sys.stderr)
        return False
    if kb.clinic.is_example:
        print("WARNING: knowledge/clinic.yml still holds EXAMPLE clinic facts (phone, address, "
              "emergency number). Replace them before patients use this.", file=sys.stderr)
    problems = release_problems(kb, knowledge_dir())
    if problems:
        print(f"WARNING: not ready for patients: {len(problems)} release problem(s), e.g. {problems[0]}. "
              "`make check-release` lists them all.", file=sys.stderr)
    return True


def _serve() -> int:
    if not _check_knowledge():
        return 1
    stack = Stack(_default_config())
    stopping = False

    def _stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _stop)
    print("starting the action server, the Rasa server, the notifier and the staff dashboard ...", flush=True)
    try:
        stack.start(clinic=True)
    except ChannelConfigError as exc:
        print(f"channel configuration: {exc}", file=sys.stderr)
        return 1
    first_login = _first_staff_user()
    try:
        seconds = stack.wait_ready()
    except RuntimeError as exc:
        print(f"start-up failed: {exc}", file=sys.stderr)
        stack.stop()
        return 1
    cfg = stack.config
    token_file = write_secret(REPO_ROOT / "build" / "secrets" / "rasa-api-token", cfg.auth_token)
    print(
        f"\nMesoGuide is ready ({seconds:.0f} s). Channels: {', '.join(stack.channels)}.\n"
        f"  chat widget:  {cfg.widget_page_url}  (demo clinic page; embed code in README)\n"
        f"  chat (REST):  curl -s -XPOST {cfg.rasa_url}/webhooks/rest/webhook "
        f"-d '{{\"sender\": \"me\", \"message\": \"does it hurt?\"}}'\n"
        f"  audit trail:  curl -s \"{cfg.rasa_url}/conversations/rest:me/tracker?token=$(cat {token_file})\"\n"
        f"  staff shell:  make shell, or with the decision view: "
        f"make staff-shell URL={cfg.rasa_url} TOKEN=$(cat {token_file})\n"
        f"  API token:    {cfg.auth_token[:4]}... (in full in {token_file}, readable by you only)\n"
        f"  dashboard:    {cfg.dashboard_url}/  (staff escalation queue){first_login}\n"
        f"  notifier:     webhook/e-mail outbox worker, channels: {_channels()}\n"
        f"  escalations:  python -m mesoguide.escalations list\n"
        f"  logs:         {cfg.log_dir}\n"
        "Press Ctrl-C to stop every server.",
        flush=True,
    )
    # A crashed server is started again (with back-off), never the whole stack stopped: while the
    # action server is down the Rasa server still answers every message (never-silent path).
    backoff = Backoff()
    for name in stack.pids():
        backoff.started(name, time.monotonic())
    while not stopping:
        for line in stack.supervise(backoff):
            print(line, file=sys.stderr, flush=True)
        time.sleep(0.5)
    print("\nstopping ...", flush=True)
    stack.stop()
    print("stopped.")
    return 0


def write_secret(path: Path, value: str) -> Path:
    """Write a secret to a file only its owner can read (folder 0700, file 0600)."""
    from mesoguide.production.render import write_private

    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    write_private(path, value + "\n")
    return path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path


def _first_staff_user() -> str:
    """On a fresh database, create user ``staff`` with a random password and say so once."""
    from mesoguide.escalations import EscalationConfig, store_from_config

    store = store_from_config(EscalationConfig.from_env())
    try:
        if store.has_users():
            return ""
        password = secrets.token_urlsafe(12)
        store.set_user("staff", password)
        return (f"\n                first log-in: user 'staff', password '{password}' (shown once; change it with "
                "python -m mesoguide.escalations add-user staff)")
    finally:
        store.dispose()


def _channels() -> str:
    from mesoguide.escalations import EscalationConfig

    return ", ".join(EscalationConfig.from_env().notify_channels) or "none configured (see README: MESOGUIDE_NOTIFY_*)"


def _shell(extra: list[str]) -> int:
    if not _check_knowledge():
        return 1
    # Free ports and its own tracker database (build/shell/), so the staff shell can run next
    # to `make run` without either stealing the other's port or conversations.
    directory = REPO_ROOT / "build" / "shell"
    directory.mkdir(parents=True, exist_ok=True)
    stack = Stack(isolated_config(directory))
    stop_on_hangup()
    stack.start(rasa=False)
    try:
        stack.wait_ready()
        cfg = stack.config
        argv = [
            _rasa_bin(), "shell",
            "--model", str(cfg.model),
            "--endpoints", str(cfg.endpoints),
            "--interface", cfg.host,
            "--port", str(cfg.rasa_port),
            *extra,
        ]
        # Ctrl-C belongs to the shell (it ends the conversation); we clean up after it exits.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        shell = subprocess.Popen(argv, cwd=REPO_ROOT)
        try:
            return shell.wait()
        finally:
            signal.signal(signal.SIGINT, previous)
            if shell.poll() is None:  # we were hung up or killed: take the shell down too
                shell.terminate()
                shell.wait(10)
    except RuntimeError as exc:
        print(f"start-up failed: {exc}", file=sys.stderr)
        return 1
    finally:
        stack.stop()


def stop_on_hangup() -> None:
    """A closed terminal or a kill still runs the ``finally`` (or ``with Stack``) that stops the servers.

    SIGHUP and SIGTERM raise ``SystemExit`` in the main thread, so the clean-up that Ctrl-C
    already runs also runs for them; without it the servers outlive the command that started them.
    """

    def _exit(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGHUP, _exit)
    signal.signal(signal.SIGTERM, _exit)


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    parser = argparse.ArgumentParser(prog="python -m mesoguide.stack", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["run", "shell"])
    args, extra = parser.parse_known_args(argv)
    return _serve() if args.command == "run" else _shell(extra)


if __name__ == "__main__":
    sys.exit(main())
