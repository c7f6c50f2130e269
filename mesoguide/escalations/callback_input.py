"""Checks of what a patient types into the callback form.

Pure functions, so the form's validation action stays short and each rule has a unit test.
Each returns the cleaned value, or None when the input is not acceptable (the form then
re-prompts with a message that says what is accepted).
"""

from __future__ import annotations

import re
import unicodedata

MAX_NAME = 80
MAX_TIME = 100
MAX_EMAIL = 254
PHONE_DIGITS = (7, 15)  # E.164 allows at most 15 digits

_CANCEL = re.compile(r"\b(cancel|stop|never\s*mind|nevermind|forget\s+(it|about\s+it)|quit|abort)\b", re.I)
_YES = re.compile(
    r"^(y|yes|yeah|yep|yup|sure|ok|okay|i agree|agree|i consent|of course|correct|that'?s right|right|fine"
    r"|please do|go ahead|send it)\b",
    re.I,
)
_NO = re.compile(r"^(n|no|nope|i don'?t agree|i do not agree|don'?t|i'?d rather not|rather not)\b", re.I)
_NAME = re.compile(r"^[^\W\d_]+(?:[ .'’-]+[^\W\d_]+)*\.?$")
# "it's Dave", "my name is Ana Silva", "Dave here": the name is what follows the introduction.
_NAME_INTRO = re.compile(
    r"^(?:(?:hi|hello|hey)[,!.]?\s+)?(?:my\s+name\s+is|my\s+name'?s|name\s+is|name'?s|the\s+name\s+is|it'?s|it\s+is|"
    r"i'?m|i\s+am|this\s+is|you\s+can\s+call\s+me|call\s+me)\s+(?=\S)",
    re.I,
)
_NAME_TAIL = re.compile(r"\s+(?:here|please|thanks|thank\s+you)[.!]?$", re.I)
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
_PHONE = re.compile(r"^\+?[\d\s().-]+$")
_CHANGE = {
    "name": re.compile(r"\bname\b", re.I),
    "contact": re.compile(r"\b(contact|phone|number|mobile|e-?mail|address)\b", re.I),
    "time": re.compile(r"\b(time|when|day)\b", re.I),
}
# A question typed into the form ("how long is the downtime btw", "does the treatment hurt") is not
# a name or a time: the form asks again instead of storing it. Three words at least ("Will Smith"
# is a name; "can you ring after 5" is a time, so "can" and "will" do not start a question there).
_QUESTION_WORDS = frozenset(
    ["how", "what", "whats", "what's", "why", "where", "which", "who", "does", "do", "is", "are", "should", "did", "has",
     "have", "tell"]
)
_QUESTION_MIN_WORDS = 3
_SHORT = 60  # a cancel word counts in short messages only: "Stop" is not cancelling in a long time text


def _clean(text: object) -> str:
    return " ".join(str(text or "").split())


def is_cancel(text: object) -> bool:
    """Whether the patient wants to stop the callback request ("cancel", "stop", "never mind")."""
    value = _clean(text)
    return len(value) <= _SHORT and bool(_CANCEL.search(value))


def yes_no(text: object) -> bool | None:
    """True for yes, False for no, None for anything else."""
    value = _clean(text).lower().strip(" .!")
    if _NO.match(value):
        return False
    if _YES.match(value):
        return True
    return None


def is_question(text: object) -> bool:
    """Whether the text asks something: three words or more, with a question mark or a question
    word first."""
    words = _clean(text).lower().replace("\u2019", "'").split()
    if len(words) < _QUESTION_MIN_WORDS:
        return False
    return "?" in " ".join(words) or words[0] in _QUESTION_WORDS


def has_markup_or_controls(value: str) -> bool:
    """Angle brackets, braces or control characters: never part of a name, contact or time."""
    return any(ch in "<>{}" or unicodedata.category(ch) in ("Cc", "Cf") for ch in value)


def clean_name(text: object) -> str | None:
    """A name: letters with spaces, dots, apostrophes or hyphens, 2-80 characters; an introduction
    ("it's", "my name is", "I'm") and a closing "here" or "please" are not part of it."""
    value = _clean(text).replace("\u2019", "'")
    stripped = _NAME_TAIL.sub("", _NAME_INTRO.sub("", value))
    value = stripped if len(stripped) >= 2 else value
    if not 2 <= len(value) <= MAX_NAME or has_markup_or_controls(value):
        return None
    if is_question(value) and not value.istitle():  # "Do Van Minh" is a name, "does it hurt" is not
        return None
    return value if _NAME.match(value) else None


def clean_contact(text: object) -> tuple[str | None, str | None] | None:
    """(phone, e-mail) with exactly one of them set, or None if it is neither."""
    value = _clean(text)
    if not value or len(value) > MAX_EMAIL or has_markup_or_controls(value):
        return None
    if "@" in value:
        return (None, value) if _EMAIL.match(value) else None
    digits = sum(ch.isdigit() for ch in value)
    if _PHONE.match(value) and PHONE_DIGITS[0] <= digits <= PHONE_DIGITS[1]:
        return (value, None)
    return None


def clean_time(text: object) -> str | None:
    """A preferred time in the patient's words, 2-100 characters, no markup."""
    value = _clean(text)
    if not 2 <= len(value) <= MAX_TIME or has_markup_or_controls(value) or is_question(value):
        return None
    return value


def detail_to_change(text: object) -> str | None:
    """Which detail the patient wants to correct at the confirmation step, if they named one."""
    value = _clean(text)
    if len(value) > _SHORT:
        return None
    return next((key for key, pattern in _CHANGE.items() if pattern.search(value)), None)
