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
from mesoguide.constants import PARSE_KEY_LANGUAGE
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


def reply_languages(tracker: Tracker, foreign: ForeignRedFlags) -> ReplyLanguages:
    """The languages of the reply to the latest message."""
    verdict = LanguageVerdict.from_record((tracker.latest_message or {}).get(PARSE_KEY_LANGUAGE))
    if verdict.reply_languages:
        return ReplyLanguages(packs=verdict.reply_languages, english=verdict.english_too)
    found = tuple(dict.fromkeys(m.language for m in foreign.match(latest_text(tracker))))
    return ReplyLanguages(packs=found, english=True)
