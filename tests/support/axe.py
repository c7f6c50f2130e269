"""axe-core (npm, test-only: web/node_modules) in a Playwright page: its serious and critical
violations.

axe is evaluated through the browser's developer protocol, not added as a ``<script>``: the
staff dashboard's Content-Security-Policy refuses inline scripts (as it should), and the check
must not need a weaker policy.
"""

from __future__ import annotations

from typing import Any

from mesoguide.paths import REPO_ROOT

AXE = REPO_ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"


def serious_violations(page: Any) -> list[str]:
    """The page's serious and critical violations, each as "id (impact): help at targets"."""
    assert AXE.is_file(), "axe-core missing: run make setup (npm ci in web/)"
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    violations = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]
