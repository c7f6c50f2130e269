"""After the whole suite: no log file any server wrote holds a phone number, an e-mail address or
a patient's message from the tests.

This directory is collected last (pytest orders directories by name), so every stack the suite
started has written its logs under the session's temporary directory by now. A log line may
name a conversation only by its hash (mesoguide.logsafe).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mesoguide.escalations.redaction import EMAIL, PHONE

# What the tests send as patients (contact details and distinctive message words).
PATIENT_WORDS = (
    "warfarin", "breastfeeding", "pus coming out", "can't breathe", "Ana Silva", "Xarelto",
    "does mesotherapy hurt", "how long does bruising last",
)
# Timestamps and durations look like digit runs to a phone pattern: taken out first.
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:[+-]\d{2}:?\d{2})?")
MIN_PHONE_DIGITS = 9  # the tests' phone numbers have 10 or more


def _logs(root: Path) -> list[Path]:
    return [p for p in root.rglob("*.log") if p.is_file()]


def test_no_log_holds_patient_data(tmp_path_factory: pytest.TempPathFactory) -> None:
    root = tmp_path_factory.getbasetemp()
    logs = _logs(root)
    findings: list[str] = []
    for path in logs:
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
            lower = line.lower()
            words = [w for w in PATIENT_WORDS if w.lower() in lower]
            emails = [e for e in EMAIL.findall(line) if not e.endswith(("@example.org",))]
            phones = [p for p in PHONE.findall(TIMESTAMP.sub(" ", line)) if sum(ch.isdigit() for ch in p) >= MIN_PHONE_DIGITS]
            if words or emails or phones:
                findings.append(f"{path.relative_to(root)}:{number}: {words or emails or phones}")
    print(f"\nlog scan: {len(logs)} log files under {root}, {len(findings)} finding(s)")
    assert not findings, "\n".join(findings[:20])
