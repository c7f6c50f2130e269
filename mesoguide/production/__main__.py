"""``python -m mesoguide.production run`` (``make run-production``); ``render-deploy`` rewrites
``deploy/`` from ``production.yml`` (``make deploy-render``)."""

from __future__ import annotations

import argparse
import secrets
import signal
import sys
import threading

from mesoguide.errors import MesoGuideError, ReleaseNotReadyError
from mesoguide.knowledge.release import require_release_ready
from mesoguide.production.config import load_config


def _first_staff_user(url: str) -> str:
    """On a fresh database, create user ``staff`` with a random password and say so once."""
    from mesoguide.escalations import EscalationConfig, store_from_config

    store = store_from_config(EscalationConfig(database_url=url))
    try:
        if store.has_users():
            return ""
        password = secrets.token_urlsafe(12)
        store.set_user("staff", password)
        return f"  first log-in: user 'staff', password '{password}' (shown once)\n"
    finally:
        store.dispose()


def run() -> int:
    """Start the profile, print where it answers, wait for Ctrl-C, stop everything."""
    from mesoguide.production.supervisor import ProductionStack
    from mesoguide.stack import _check_knowledge

    try:
        config = load_config()
    except MesoGuideError as exc:
        print(f"production configuration: {exc}", file=sys.stderr)
        return 2
    if not _check_knowledge():
        return 1
    try:
        # Patients reach this profile: no example clinic facts, no unsigned content.
        require_release_ready()
    except ReleaseNotReadyError as exc:
        print(
            f"refusing to start the production profile: {exc}\n`make check-release` lists the same; "
            "knowledge/README.md, 'Release', says how a clinician signs.",
            file=sys.stderr,
        )
        return 2
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda *_: stop.set())
    stack = ProductionStack(config, on_event=lambda line: print(f"[supervisor] {line}", flush=True))
    print(
        f"starting the production profile ({config.rasa_replicas} Rasa servers, {config.action_workers} action "
        f"servers, PostgreSQL, Redis, notifier, dashboard, nginx) ...",
        flush=True,
    )
    try:
        seconds = stack.start()
    except (MesoGuideError, RuntimeError, OSError) as exc:
        print(f"start-up failed: {exc}", file=sys.stderr)
        return 1
    login = _first_staff_user(stack.escalation_url)
    print(
        f"\nMesoGuide production profile is ready ({seconds:.0f} s). Channels: {', '.join(stack.channels)}.\n"
        f"  chat widget:  {config.public_url}/webhooks/webchat/demo\n"
        f"  dashboard:    {config.dashboard_url}/\n{login}"
        f"  logs:         {stack.data / 'logs'}\n"
        "Press Ctrl-C to stop every process.",
        flush=True,
    )
    print(f"public: {stack.public_url}", flush=True)
    stop.wait()
    print("\nstopping ...", flush=True)
    stack.stop()
    print("stopped.", flush=True)
    return 0


def serve_rasa(port: int, endpoints: str) -> int:
    """A Rasa server in a container (deploy/): channel credentials from the environment, then
    Rasa's CLI with the speed-ups, the API behind ``RASA_AUTH_TOKEN``."""
    import os
    from pathlib import Path

    from mesoguide.channels.credentials import write_credentials
    from mesoguide.runtime import rasa_server

    token = os.environ.get("RASA_AUTH_TOKEN", "")
    if len(token) < 16:
        print("RASA_AUTH_TOKEN must be set (16 characters or more): it protects Rasa's HTTP API", file=sys.stderr)
        return 2
    credentials = Path(os.environ.get("MESOGUIDE_CREDENTIALS_FILE", "/tmp/credentials.yml"))
    write_credentials(credentials, os.environ)
    rasa_server.main(
        [
            "run",
            "--model",
            os.environ.get("MESOGUIDE_MODEL", "models"),
            "--endpoints",
            endpoints,
            "--credentials",
            str(credentials),
            "--interface",
            # Loopback unless configured otherwise (deploy/ sets the container's interface).
            os.environ.get("MESOGUIDE_RASA_INTERFACE", "127.0.0.1"),
            "--port",
            str(port),
            "--enable-api",
            "--cors",
            *os.environ.get("MESOGUIDE_CORS_ORIGINS", "*").split(),
        ]
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    parser = argparse.ArgumentParser(prog="python -m mesoguide.production")
    parser.add_argument("command", choices=["run", "render-deploy", "serve-rasa"])
    parser.add_argument("--port", type=int, default=5005, help="serve-rasa: the port")
    parser.add_argument("--endpoints", default="/etc/mesoguide/endpoints.yml", help="serve-rasa: Rasa's endpoints file")
    args = parser.parse_args(argv)
    if args.command == "serve-rasa":
        return serve_rasa(args.port, args.endpoints)
    if args.command == "render-deploy":
        from mesoguide.production.deploy import write_deploy

        for path in write_deploy(load_config()):
            print(f"wrote {path}")
        return 0
    return run()


if __name__ == "__main__":
    sys.exit(main())
