"""Contact details never reach the transcript excerpt.

Phone numbers and e-mail addresses are replaced by placeholders, and so is any value the
callback form collected (a name is not recognisable by pattern, so it is removed by value).
Callback details live in their own columns instead, where staff can see them and purge removes
them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# A run of digits with the separators people type (spaces, dots, dashes, brackets, a leading +)
# that holds at least 7 digits: a phone number, not "3 sessions" or "2-4 weeks".
PHONE = re.compile(r"(?<![\w])\+?\(?\d[\d\s().-]{5,}\d(?![\w])")
MIN_PHONE_DIGITS = 7
EMAIL_MARK = "[e-mail removed]"
PHONE_MARK = "[phone removed]"
VALUE_MARK = "[removed]"


def redact(text: str, known_values: Iterable[str] = ()) -> str:
    """``text`` without e-mail addresses, phone numbers and the given values.

    Args:
        text: Patient text.
        known_values: Strings to remove wherever they occur (case-insensitive), e.g. the
            name the patient gave in the callback form. Values shorter than 3 characters are
            ignored, so "Al" does not wipe every "al" out of the text.
    """
    text = EMAIL.sub(EMAIL_MARK, text)
    text = PHONE.sub(_phone_or_keep, text)
    for value in sorted({v.strip() for v in known_values if v and len(v.strip()) >= 3}, key=len, reverse=True):
        text = re.sub(re.escape(value), VALUE_MARK, text, flags=re.IGNORECASE)
    return text


def _phone_or_keep(match: re.Match[str]) -> str:
    digits = sum(ch.isdigit() for ch in match.group(0))
    return PHONE_MARK if digits >= MIN_PHONE_DIGITS else match.group(0)
