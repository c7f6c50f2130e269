"""The action server without TensorFlow: ``python -m mesoguide.production.action_server --port N``.

The actions need spaCy (the guardrail re-check), SQLAlchemy and rasa_sdk, never TensorFlow. But
thinc (spaCy's machine-learning layer) imports TensorFlow whenever it is installed, and Rasa
installs it: 0.5 GB of memory and seconds of start-up per worker for nothing. Here TensorFlow is
made unimportable in this process before anything loads (``sys.modules[name] = None`` makes
``import`` raise ``ImportError``, which thinc catches as "not installed"), then rasa_sdk's own
command line runs with the given arguments and ``--actions actions``.

The server binds to loopback (``SANIC_HOST``, rasa_sdk's default is every interface) and runs
only calls that carry the shared secret (:mod:`mesoguide.runtime.action_auth`). ``make run``
and the production profile both start it this way.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import pluggy

from mesoguide import logsafe
from mesoguide.errors import ActionTokenError
from mesoguide.runtime import action_auth

#: Packages the action server must never load (each costs memory and start-up, none is used).
NOT_NEEDED = ("tensorflow", "tensorflow_hub", "tensorflow_text", "torch")


def block_unneeded_imports() -> None:
    """Make the packages of :data:`NOT_NEEDED` raise ``ImportError`` when imported."""
    for name in NOT_NEEDED:
        if name not in sys.modules:
            sys.modules[name] = None  # type: ignore[assignment]


class _SharedSecretPlugin:
    """rasa_sdk's extension point (``attach_sanic_app_extensions``) puts the check on its app."""

    def __init__(self, token: str) -> None:
        self.token = token

    @pluggy.HookimplMarker("rasa_sdk")
    def attach_sanic_app_extensions(self, app: Any) -> None:
        action_auth.install(app, self.token)


def main(argv: list[str] | None = None) -> int:
    """Run rasa_sdk's action server (``argv``: its arguments, e.g. ``--port 5055``)."""
    block_unneeded_imports()
    logsafe.install(rasa=False)
    os.environ.setdefault("SANIC_HOST", "127.0.0.1")
    try:
        token = action_auth.action_token(os.environ)
    except ActionTokenError as exc:
        print(f"action server: {exc}", file=sys.stderr)
        return 2
    from rasa_sdk.plugin import plugin_manager

    plugin_manager().register(_SharedSecretPlugin(token))
    from rasa_sdk.__main__ import main as sdk_main

    sys.argv = ["rasa_sdk", "--actions", "actions", *(sys.argv[1:] if argv is None else argv)]
    sdk_main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
