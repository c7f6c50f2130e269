"""Fold a message (or a vocabulary term) to the form the red-flag matcher compares.

Terms and messages go through the same function, so a term written with its proper letters
matches a message typed without them: "ateşim var" and "atesim var" fold alike. The rules:

- NFKC (full-width letters and digits, ligatures), then the language's lowercase: Turkish
  ``İ`` and ``I`` are lowered to ``i`` and ``ı`` first (Python's own lowercase knows no Turkish),
  then everything is case-folded (``ß`` becomes ``ss``).
- Diacritics are removed (``ş ğ ç ö ü é ñ ã`` → ``s g c o u e n a``, ``ı`` → ``i``; Cyrillic
  ``ё й`` → ``е и``; Arabic hamza and madda on alef → ``ا``), and Arabic short vowels, dagger
  alef and tatweel go, ``ى`` → ``ي`` and ``ة`` → ``ه``: patients type these every way.
- Turkish: the suffix after an apostrophe goes with it ("Botox'tan", "yüzüm'de").
"""

from __future__ import annotations

import re
import unicodedata

_TURKISH_SUFFIX = re.compile(r"(\w)['’‘`´]\w+")
_ARABIC_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_ARABIC_LETTERS = str.maketrans({"ى": "ي", "ة": "ه", "ٱ": "ا"})
_DOTLESS = str.maketrans({"ı": "i"})


def fold(text: str, language: str) -> str:
    """The folded form of ``text`` written in ``language`` (an ISO 639-1 code).

    Args:
        text: A message or a vocabulary term.
        language: The language whose rules apply (``tr`` for the Turkish casing and suffixes).

    Returns:
        Lowercase text without diacritics; its length may differ from the input's.
    """
    text = unicodedata.normalize("NFKC", text)
    if language == "tr":
        text = text.replace("İ", "i").replace("I", "ı")
        text = _TURKISH_SUFFIX.sub(r"\1", text)
    text = text.casefold().translate(_DOTLESS)
    decomposed = unicodedata.normalize("NFD", text)
    text = unicodedata.normalize("NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch)))
    if language == "ar":
        text = _ARABIC_MARKS.sub("", text).translate(_ARABIC_LETTERS)
    return text
