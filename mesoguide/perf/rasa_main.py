"""The project's entry point for the Rasa server: ``rasa`` with :mod:`mesoguide.perf.rasa_speedups`
applied first.

``python -m mesoguide.perf.rasa_main run --model ... `` takes exactly the arguments of ``rasa``
(it *is* Rasa's CLI, in the same process), so nothing else about starting the server changes.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    """Apply the speed-ups, then run Rasa's own CLI with ``argv`` (default: ``sys.argv[1:]``)."""
    from mesoguide.perf import rasa_speedups

    rasa_speedups.apply()
    from rasa.__main__ import main as rasa_cli

    sys.argv = ["rasa", *(sys.argv[1:] if argv is None else argv)]
    rasa_cli()


if __name__ == "__main__":
    main()
