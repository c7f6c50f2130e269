"""The action server without TensorFlow: ``python -m mesoguide.production.action_server --port N``.

The actions need spaCy (the guardrail re-check), SQLAlchemy and rasa_sdk, never TensorFlow. But
thinc (spaCy's machine-learning layer) imports TensorFlow whenever it is installed, and Rasa
installs it: 0.5 GB of memory and seconds of start-up per worker for nothing. Here TensorFlow is
made unimportable in this process before anything loads (``sys.modules[name] = None`` makes
``import`` raise ``ImportError``, which thinc catches as "not installed"), then rasa_sdk's own
command line runs with the given arguments and ``--actions actions``.

The server binds to loopback (``SANIC_HOST``, rasa_sdk's default is every interface).
"""

from __future__ import annotations

import os
import sys

#: Packages the action server must never load (each costs memory and start-up, none is used).
NOT_NEEDED = ("tensorflow", "tensorflow_hub", "tensorflow_text", "torch")


def block_unneeded_imports() -> None:
    """Make the packages of :data:`NOT_NEEDED` raise ``ImportError`` when imported."""
    for name in NOT_NEEDED:
        if name not in sys.modules:
            sys.modules[name] = None  # type: ignore[assignment]


def main(argv: list[str] | None = None) -> None:
    """Run rasa_sdk's action server (``argv``: its arguments, e.g. ``--port 5055``)."""
    block_unneeded_imports()
    os.environ.setdefault("SANIC_HOST", "127.0.0.1")
    from rasa_sdk.__main__ import main as sdk_main

    sys.argv = ["rasa_sdk", "--actions", "actions", *(sys.argv[1:] if argv is None else argv)]
    sdk_main()


if __name__ == "__main__":
    main()
