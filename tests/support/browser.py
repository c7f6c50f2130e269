"""Debian's Chromium through Playwright, for the browser tests (Playwright cannot download a
browser here). One per test module: a sync Playwright must end before another starts in the
same thread."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
# These flags make Debian's Chromium quiet and runnable as root in a container.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


@contextlib.contextmanager
def chromium(shots: Path) -> Iterator[Any]:
    """A launched browser; ``shots`` (the module's screenshot folder) is made first and named at
    the end of the run."""
    from playwright.sync_api import sync_playwright

    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
    print(f"\nscreenshots: {shots}")
