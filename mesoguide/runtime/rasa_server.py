"""The project's entry point for the Rasa server: ``rasa`` with the never-silent path, the HTTP
front door and the speed-ups applied first.

``python -m mesoguide.runtime.rasa_server run --model ...`` takes exactly the arguments of
``rasa`` (it *is* Rasa's CLI, in the same process), so nothing else about starting the server
changes. What each adaptation does: :mod:`mesoguide.runtime.never_silent`,
:mod:`mesoguide.runtime.http_guard`, :mod:`mesoguide.perf.rasa_speedups`.
"""

from __future__ import annotations

import functools
import sys
from typing import Any


def install_front_door() -> None:
    """Make Rasa's app factory put :mod:`mesoguide.runtime.http_guard` on every app it builds."""
    import rasa.core.run

    from mesoguide.knowledge import default_knowledge
    from mesoguide.runtime import http_guard

    if getattr(rasa.core.run.configure_app, "_mesoguide_guarded", False):
        return
    original = rasa.core.run.configure_app
    kb = default_knowledge()

    @functools.wraps(original)
    def configure_app(*args: Any, **kwargs: Any) -> Any:
        app = original(*args, **kwargs)
        http_guard.install(app, slow_down_text=kb.render(kb.messages.runtime["slow_down"]))
        return app

    configure_app._mesoguide_guarded = True  # type: ignore[attr-defined]
    rasa.core.run.configure_app = configure_app


#: The Rasa HTTP API token comes from this variable, never from the command line (every local
#: user can read a process's command line).
ENV_API_TOKEN = "RASA_AUTH_TOKEN"


def with_api_token(args: list[str], env: dict[str, str]) -> list[str]:
    """Rasa's arguments with ``--auth-token`` taken from :data:`ENV_API_TOKEN` when it is set.

    The argument list stays inside this process: ``ps`` shows the command line it was started
    with, which holds no token.
    """
    token = env.get(ENV_API_TOKEN, "")
    if not token or any(a.startswith("--auth-token") for a in args):
        return args
    # "=" form: a random token may start with "-", which argparse would take for an option.
    return [*args, f"--auth-token={token}"]


def main(argv: list[str] | None = None) -> None:
    """Apply the adaptations, then run Rasa's own CLI with ``argv`` (default: ``sys.argv[1:]``)."""
    import os

    from mesoguide import logsafe
    from mesoguide.perf import rasa_speedups
    from mesoguide.runtime import never_silent

    logsafe.install()
    rasa_speedups.apply()
    never_silent.apply()
    install_front_door()
    from rasa.__main__ import main as rasa_cli

    sys.argv = ["rasa", *with_api_token(sys.argv[1:] if argv is None else argv, dict(os.environ))]
    rasa_cli()


if __name__ == "__main__":
    main()
