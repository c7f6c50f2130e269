"""Text the vocabularies can match, whatever way it was typed or disguised.

A patient's phone, a copy-paste from another app or someone probing the assistant can turn
"pregnant" into text that looks the same but is not the same characters: a non-breaking or
zero-width space, a soft hyphen, full-width letters, a Cyrillic "а" in a Latin word, or "pr3gn4nt".
The deterministic layer must not depend on the classifier to catch these, so the matcher reads a
normalised copy of the message:

1. Unicode NFKC (full-width and compatibility forms become plain letters, non-breaking spaces
   become spaces);
2. invisible characters removed (zero-width spaces and joiners, word joiner, byte-order mark,
   soft hyphen), typographic quotes and dashes read as plain ones;
3. in a word that mixes Latin letters with Cyrillic or Greek look-alikes, each look-alike becomes
   its Latin twin (a word wholly in Cyrillic or Greek is left alone: it is another language);
4. in a word that mixes letters and digits, digits and ``@``/``$`` used as letters become letters
   ("pr3gn4nt" -> "pregnant"); a number with a unit or an ordinal ("5ml", "3rd", "10am") is not a
   disguise and stays. ``1`` may stand for "i" or "l", so such a word yields two readings;
5. with a spelling corrector, a misspelled medicine or condition name reads as the vocabulary word
   it stands for ("anticoagulents"), in one more reading (:mod:`.spelling`).

Each normalised character keeps the index of the character it came from, so matches are reported
with the patient's own words and offsets.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

INVISIBLE = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e")
# Typographic quotes and dashes that phones put in ("I’m", "follow‑up") read as the plain ones.
PUNCTUATION = {"\u2018": "'", "\u2019": "'", "\u02bc": "'", "\u2032": "'", "\u201c": '"', "\u201d": '"',
               "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-"}

# Cyrillic and Greek letters that look like Latin ones (lowercase; text is lowercased first).
LOOKALIKES = {
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
    "т": "t", "у": "y", "х": "x", "і": "i", "ї": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ɡ": "g", "һ": "h",
    "ӏ": "l", "ԛ": "q", "ԝ": "w",
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t",
    "υ": "u", "χ": "x", "γ": "y", "ω": "w",
}
# Digits and symbols written for letters inside a word. "1" has two readings (see module doc).
LEET = {"0": "o", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "@": "a", "$": "s"}
ONE_READINGS = ("i", "l")

_WORD = re.compile(r"[^\W_]+(?:[@$][^\W_]*)*|[@$][^\W_]+", re.UNICODE)
# A number with a unit, an ordinal or a time is not a disguised word.
_MEASURE = re.compile(r"^\d+(?:st|nd|rd|th|am|pm|ml|mg|mcg|g|kg|cm|mm|m|h|hr|hrs|min|mins|d|w|wk|wks|x|k|yo|y|yr|yrs|s)$")


@dataclass(frozen=True)
class Normalised:
    """A normalised reading of a message.

    Attributes:
        text: The normalised text (lowercase).
        origin: For each character of ``text``, the index of the original character it came from.
    """

    text: str
    origin: tuple[int, ...]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original ``[start, end)`` offsets of a normalised ``[start, end)`` span."""
        return self.origin[start], self.origin[end - 1] + 1


def readings(text: str, *, correct: Callable[[str], str | None] | None = None) -> list[Normalised]:
    """The normalised readings of a message: the plain one, and when a word uses digits for
    letters, the unmasked one (two when "1" may be "i" or "l"); with ``correct``, also one with
    misspelled vocabulary words corrected (:mod:`.spelling`).

    Args:
        text: The message as the patient typed it.

    Returns:
        Lowercase readings whose ``origin`` maps back into ``text``.
    """
    chars, origin = _compatibility(text)
    base = "".join(chars)
    lookalikes_only = list(chars)
    for word in _WORD.finditer(base):
        _map_lookalikes(word.group(), word.start(), lookalikes_only)
    mapped = list(lookalikes_only)
    ones: list[int] = []
    for word in _WORD.finditer(base):
        _unmask_digits(word.group(), word.start(), mapped, ones)
    plain = Normalised("".join(lookalikes_only), tuple(origin))
    # The plain reading stays first: "b12" or "covid19" mean what they say.
    variants = [plain]
    if mapped != lookalikes_only or ones:
        for letter in ONE_READINGS if ones else ("",):
            reading = list(mapped)
            for index in ones:
                reading[index] = letter
            variants.append(Normalised("".join(reading), tuple(origin)))
    if correct is not None:
        corrected = [c for c in (_corrected(v, correct) for v in variants) if c is not None]
        variants.extend(corrected)
    return variants


# Spelling is checked for this many words of a reading: a patient's longest story, not a flood of
# pasted text (matching itself still reads every word).
MAX_WORDS_CORRECTED = 400


def _corrected(reading: Normalised, correct: Callable[[str], str | None]) -> Normalised | None:
    """The reading with each misspelled vocabulary word replaced, or ``None`` if none was."""
    chars: list[str] = []
    origin: list[int] = []
    last = 0
    changed = False
    for count, word in enumerate(re.finditer(r"[^\W\d_]+", reading.text)):
        if count >= MAX_WORDS_CORRECTED:
            break
        fixed = correct(word.group())
        if fixed is None:
            continue
        changed = True
        chars.extend(reading.text[last:word.start()])
        origin.extend(reading.origin[last:word.start()])
        span = reading.origin[word.start():word.end()]
        chars.extend(fixed)
        # Each letter of the correction points into the misspelled word it replaces.
        origin.extend(span[min(i, len(span) - 1)] for i in range(len(fixed)))
        last = word.end()
    if not changed:
        return None
    chars.extend(reading.text[last:])
    origin.extend(reading.origin[last:])
    return Normalised("".join(chars), tuple(origin))


def _compatibility(text: str) -> tuple[list[str], list[int]]:
    """NFKC per character, invisible characters dropped, lowercased; with each origin index."""
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        if char in INVISIBLE:
            continue
        for piece in unicodedata.normalize("NFKC", char).lower():
            if piece in INVISIBLE:
                continue
            chars.append(PUNCTUATION.get(piece, piece))
            origin.append(index)
    return chars, origin


def _map_lookalikes(word: str, offset: int, mapped: list[str]) -> None:
    """Maps the Cyrillic and Greek look-alikes of a word that also has Latin letters, in place."""
    if any("a" <= ch <= "z" for ch in word) and any(ch in LOOKALIKES for ch in word):
        for i, ch in enumerate(word):
            if ch in LOOKALIKES:
                mapped[offset + i] = LOOKALIKES[ch]


def _unmask_digits(word: str, offset: int, mapped: list[str], ones: list[int]) -> None:
    """Maps the digits and symbols a word uses for letters, in place; records where "1" stands."""
    letters = sum(ch.isalpha() for ch in word)
    masked = sum(ch.isdigit() or ch in "@$" for ch in word)
    if not masked or letters < 2 or _MEASURE.match(word):
        return
    for i, ch in enumerate(word):
        if ch == "1":
            ones.append(offset + i)
        elif ch in LEET:
            mapped[offset + i] = LEET[ch]
