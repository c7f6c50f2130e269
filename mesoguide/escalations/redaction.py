"""Contact details never reach the transcript excerpt.

Phone numbers (also split by dashes, dots, slashes or underscores), e-mail addresses (also
written out: "ana at example dot com"), dates of birth, UK postcodes and @handles are replaced by
placeholders, and so is any value the callback form collected (a name is not recognisable by
pattern, so it is removed by value).
Callback details live in their own columns instead, where staff can see them and purge removes
them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# "ana.silva at example dot com", "ana (at) example (dot) co (dot) uk": the last label is short
# letters, so "look at the area dot by dot" is not an address.
SPOKEN_EMAIL = re.compile(
    r"\b[\w.+-]+\s*(?:\(at\)|\[at\]|\sat\s)\s*[\w-]+(?:\s*(?:\(dot\)|\[dot\]|\sdot\s|\.)\s*[A-Za-z]{2,6}\b)+",
    re.IGNORECASE,
)
# A run of digits with the separators people type (spaces, dots, dashes, slashes, underscores,
# brackets, a leading +) that holds at least 7 digits: a phone number, not "3 sessions" or "2-4 weeks".
PHONE = re.compile(r"(?<![\w])\+?\(?\d[\d\s().\-/_]{5,}\d(?![\w])")
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*"
# A date after "born", "DOB", "date of birth" or "birthday" (treatment dates stay: they matter).
BIRTH_DATE = re.compile(
    r"\b(?:born(?:\s+on)?|d\.?o\.?b\.?|date\s+of\s+birth|birthday(?:\s+is)?)\s*[:\-]?\s*"
    rf"(?:\d{{1,2}}[./\-]\d{{1,2}}[./\-]\d{{2,4}}|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}\s+\d{{2,4}}|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{2,4}}|\d{{4}})",
    re.IGNORECASE,
)
UK_POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b", re.IGNORECASE)
HANDLE = re.compile(r"(?<![\w.@])@[A-Za-z0-9_.]{2,30}\b")
MIN_PHONE_DIGITS = 7
EMAIL_MARK = "[e-mail removed]"
PHONE_MARK = "[phone removed]"
VALUE_MARK = "[removed]"
BIRTH_DATE_MARK = "[date of birth removed]"
POSTCODE_MARK = "[postcode removed]"
HANDLE_MARK = "[handle removed]"


def redact(text: str, known_values: Iterable[str] = ()) -> str:
    """``text`` without e-mail addresses, phone numbers and the given values.

    Args:
        text: Patient text.
        known_values: Strings to remove wherever they occur (case-insensitive), e.g. the
            name the patient gave in the callback form. Values shorter than 3 characters are
            ignored, so "Al" does not wipe every "al" out of the text.
    """
    text = EMAIL.sub(EMAIL_MARK, text)
    text = SPOKEN_EMAIL.sub(EMAIL_MARK, text)
    text = HANDLE.sub(HANDLE_MARK, text)
    text = BIRTH_DATE.sub(BIRTH_DATE_MARK, text)
    text = PHONE.sub(_phone_or_keep, text)
    text = UK_POSTCODE.sub(POSTCODE_MARK, text)
    for value in sorted({v.strip() for v in known_values if v and len(v.strip()) >= 3}, key=len, reverse=True):
        text = re.sub(re.escape(value), VALUE_MARK, text, flags=re.IGNORECASE)
    return text


_DATE = re.compile(r"^\d{1,2}[./-]\d{1,2}[./-]\d{2,4}$")


def _phone_or_keep(match: re.Match[str]) -> str:
    text = match.group(0)
    if _DATE.match(text.strip()):  # a treatment date ("injected on 12/03/2026") is clinical, not contact
        return text
    digits = sum(ch.isdigit() for ch in text)
    return PHONE_MARK if digits >= MIN_PHONE_DIGITS else text


def spreadsheet_safe(value: object) -> object:
    """A CSV cell as a spreadsheet shows it, never run as a formula: text starting with
    ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading quote."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
