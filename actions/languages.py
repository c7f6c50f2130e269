"""Which languages a reply is written in, and the texts of the language packs.

The Rasa side records the language rail's verdict with the message
(:class:`mesoguide.language.rail.LanguageVerdict`). When it recorded none (a button payload, an
older model) but the action server's own re-check found a red flag in another language, the
reply uses that language and English.
"""

from __future__ import annotations

from dataclasses import dataclass

from rasa_sdk import Tracker

from actions.replies import latest_text
from mesoguide.constants import ENTITY_RED_FLAG, PARSE_KEY_LANGUAGE
from mesoguide.guardrail.matcher import GuardrailMatcher
from mesoguide.language.identify import ENGLISH
from mesoguide.language.rail import LanguageVerdict
from mesoguide.language.red_flags import ForeignRedFlags


@dataclass(frozen=True)
class ReplyLanguages:
    """The languages of one reply.

    Attributes:
        packs: Language packs whose texts come first, in order.
        english: The English text follows (or stands alone when ``packs`` is empty).
    """

    packs: tuple[str, ...] = ()
    english: bool = True

    @property
    def first(self) -> str:
        """The language of the reply's first text."""
        return self.packs[0] if self.packs else ENGLISH


ENGLISH_ONLY = ReplyLanguages()


def reply_languages(tracker: Tracker, foreign: ForeignRedFlags, matcher: GuardrailMatcher) -> ReplyLanguages:
    """The languages of the reply to the latest message.

    Without a recorded verdict, a red flag the English vocabulary finds is answered in English
    ("pus" is a word in four other languages too); one only another language's vocabulary finds
    is answered in that language and in English.
    """
    record = (tracker.latest_message or {}).get(PARSE_KEY_LANGUAGE)
    if record is not None:
        verdict = LanguageVerdict.from_record(record)
        return ReplyLanguages(packs=verdict.reply_languages, english=verdict.english_too)
    text = latest_text(tracker)
    if any(m.entity == ENTITY_RED_FLAG for m in matcher.guardrail_matches(text)):
        return ENGLISH_ONLY
    found = [m.language for m in foreign.match(text)]
    return ReplyLanguages(packs=tuple(found[:1]), english=True)
