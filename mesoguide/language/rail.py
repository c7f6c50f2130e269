"""The language rail: one message in, its language and the red flags written in any language out.

Two questions, kept apart on purpose:

- **Which language is it?** (:mod:`.identify`) decides the reply's language: English, or a
  language the clinic has a pack for (``knowledge/messages.<lang>.yml``).
- **Does it name a red flag in another language?** (:mod:`.red_flags`) is asked of every
  message, in every pack's language, whatever the first answer: "nefes alamıyorum" is two words
  and so read as English, and "Xarelto kullanıyorum, nefes alamıyorum" names an English
  vocabulary term; both are red flags. A red flag beats every other outcome (the precedence), so
  the reply then carries the urgent text in the language of the words that matched, and in
  English too when the message was read as English.

The English guardrail runs on every message as before: a mixed message is judged by both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mesoguide.knowledge import ForeignRedFlag, LanguagePack
from mesoguide.language.identify import ENGLISH, LanguageGuess, LanguageIdentifier
from mesoguide.language.red_flags import ForeignRedFlagMatch, ForeignRedFlags


@dataclass(frozen=True)
class LanguageVerdict:
    """What the rail found in one message (recorded in the parse data under ``language``).

    Attributes:
        code: The message's language (``en``, ``tr``; a code without a pack is possible).
        reason: Why (:class:`.identify.LanguageGuess`).
        red_flags: Red-flag entries found by the other languages' vocabularies.
        reply_languages: The packs the reply uses, in order; empty for an English reply.
        english_too: The reply adds the English text (the message was read as English).
    """

    code: str
    reason: str
    red_flags: tuple[ForeignRedFlagMatch, ...] = ()
    reply_languages: tuple[str, ...] = ()
    english_too: bool = True

    @property
    def is_red_flag(self) -> bool:
        """True when another language's vocabulary found a red flag."""
        return bool(self.red_flags)

    @property
    def needs_language_reply(self) -> bool:
        """True when the patient gets the safe reply of a pack instead of an English answer."""
        return bool(self.reply_languages) and not self.english_too

    def as_record(self) -> dict[str, Any]:
        """The JSON record kept with the message (audit data, the actions' reply language)."""
        return {
            "code": self.code,
            "reason": self.reason,
            "red_flags": [f"{m.language}:{m.value}" for m in self.red_flags],
            "reply_languages": list(self.reply_languages),
            "english_too": self.english_too,
        }

    @classmethod
    def from_record(cls, record: object) -> LanguageVerdict:
        """A recorded verdict read back; English when nothing (or nothing valid) was recorded."""
        if not isinstance(record, dict):
            return cls(code=ENGLISH, reason="not_recorded")
        flags = []
        for item in record.get("red_flags") or []:
            language, _, value = str(item).partition(":")
            if value:
                flags.append(ForeignRedFlagMatch(language=language, value=value))
        return cls(
            code=str(record.get("code") or ENGLISH),
            reason=str(record.get("reason") or "recorded"),
            red_flags=tuple(flags),
            reply_languages=tuple(str(c) for c in record.get("reply_languages") or []),
            english_too=bool(record.get("english_too", True)),
        )


@dataclass
class LanguageRail:
    """The identifier and every pack's red-flag matcher, built once per process.

    Args:
        vocabularies: Each pack's red-flag vocabulary, by language code (the packs' languages).
        low_accuracy: The detector's low-accuracy mode (:class:`.identify.LanguageIdentifier`).
    """

    vocabularies: Mapping[str, Sequence[ForeignRedFlag]]
    low_accuracy: bool = False
    _identifier: LanguageIdentifier = field(init=False, repr=False)
    _red_flags: ForeignRedFlags = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._identifier = LanguageIdentifier(languages=self.vocabularies, low_accuracy=self.low_accuracy)
        self._red_flags = ForeignRedFlags(vocabularies=self.vocabularies)

    @classmethod
    def from_packs(cls, packs: Mapping[str, LanguagePack], *, low_accuracy: bool = False) -> LanguageRail:
        """The rail of a knowledge base's language packs."""
        return cls(vocabularies={code: pack.red_flags for code, pack in packs.items()}, low_accuracy=low_accuracy)

    def read(
        self, text: str, *, english_terms: bool = False, english_red_flag: bool = False, hint: str | None = None
    ) -> LanguageVerdict:
        """The language verdict of one message.

        Args:
            text: The patient's message.
            english_terms: True when the English guardrail found a vocabulary term (not an area:
                "cellulite" is French and German too).
            english_red_flag: True when one of those terms is a red flag.
            hint: A channel's language hint (``tr-TR``), if any.
        """
        guess = self._identifier.identify(text, english_terms=english_terms, hint=hint)
        flags = tuple(self._red_flags.match(text))
        if guess.code in self.vocabularies or not flags:
            return verdict_of(guess, flags, self.vocabularies)
        # Read as English, with red-flag words of another language. Which language are the words
        # in, the rules aside? "me sale pus de los pinchazos" is Spanish though "pus", "me" and
        # "sale" are English words too.
        own = self._identifier.detected(text)
        matched = [m.language for m in flags]
        if own in matched:
            reply_in: str | None = own
        elif english_red_flag:
            # "my cheek is leaking pus": English, and its English red flag is the reply.
            reply_in = None
        else:
            reply_in = self._identifier.likeliest(text, matched)
        return verdict_of(guess, flags, self.vocabularies, reply_in=reply_in, only_reply_in=True)


def verdict_of(
    guess: LanguageGuess,
    flags: tuple[ForeignRedFlagMatch, ...],
    packs: Mapping[str, object],
    *,
    reply_in: str | None = None,
    only_reply_in: bool = False,
) -> LanguageVerdict:
    """Which pack replies: the message's own language if it has one, else the language whose
    red-flag words matched (``reply_in`` when several did: "pus" is Spanish, French, Italian and
    Portuguese; with ``only_reply_in``, no other); English too when the message was read as
    English (or has no pack)."""
    if guess.code in packs:
        reply: tuple[str, ...] = (guess.code,)
    else:
        matched = [m.language for m in flags if m.language in packs]
        chosen = reply_in if reply_in in matched else (None if only_reply_in or not matched else matched[0])
        reply = (chosen,) if chosen else ()
    english_too = guess.code not in packs
    return LanguageVerdict(code=guess.code, reason=guess.reason, red_flags=flags, reply_languages=reply, english_too=english_too)
