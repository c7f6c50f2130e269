"""The language rail's parts on their own: folding, the stem matcher, identification, the verdict.

The vocabularies here are written for the test, so each rule of the matcher is pinned whatever
the clinic's own vocabularies say; ``test_language_packs.py`` checks the real packs.
"""

from __future__ import annotations

import pytest

from mesoguide.constants import INTENT_OUT_OF_SCOPE, INTENT_RED_FLAG
from mesoguide.knowledge import ForeignRedFlag
from mesoguide.language.fold import fold
from mesoguide.language.identify import LanguageGuess, LanguageIdentifier, has_function_words
from mesoguide.language.rail import LanguageRail, LanguageVerdict, verdict_of
from mesoguide.language.rasa_gate import routed_intent
from mesoguide.language.red_flags import ForeignRedFlagMatch, LanguageRedFlagMatcher


@pytest.mark.parametrize(
    ("text", "language", "folded"),
    [
        ("ATEŞİM VAR", "tr", "atesim var"),
        ("Işık", "tr", "isik"),
        ("Botox'tan sonra", "tr", "botox sonra"),
        ("yüzüm’de", "tr", "yuzum"),
        ("Straße", "de", "strasse"),
        ("Ödem", "de", "odem"),
        ("fièvre", "fr", "fievre"),
        ("ёлка", "ru", "елка"),
        ("الحُمّى", "ar", "الحمي"),
        ("أَلَم", "ar", "الم"),
        ("ＡＢＣ", "en", "abc"),
    ],
)
def test_fold_lowercases_and_drops_diacritics_by_the_language_rules(text: str, language: str, folded: str) -> None:
    assert fold(text, language) == folded


def matcher(language: str, **entries: list[str]) -> LanguageRedFlagMatcher:
    return LanguageRedFlagMatcher(
        language=language, entries=[ForeignRedFlag(id=k, terms=tuple(v)) for k, v in entries.items()]
    )


def values(found: list[ForeignRedFlagMatch]) -> list[str]:
    return [m.value for m in found]


def test_each_word_of_a_term_is_a_stem_and_words_may_be_two_apart() -> None:
    tr = matcher("tr", face_throat_swelling=["dudak şiş"], breathing_difficulty=["nefes alamı"])
    assert values(tr.match("dudaklarım şişti")) == ["face_throat_swelling"]
    assert values(tr.match("dudaklarim cok fazla sisti")) == ["face_throat_swelling"], "typed without Turkish letters"
    assert values(tr.match("DUDAKLARIM ŞİŞTİ")) == ["face_throat_swelling"], "Turkish upper case"
    assert values(tr.match("şişti dudaklarım")) == [], "order counts: write a term per order"
    assert values(tr.match("dudak dolgusu yaptırdım ve yarın belki şişer")) == [], "more than two words apart"
    assert values(tr.match("nefes alamıyorum")) == ["breathing_difficulty"]
    assert values(tr.match("Mezoterapi ağrılı mı?")) == []


def test_arabic_stems_match_after_joined_prefixes() -> None:
    ar = matcher("ar", fever_chills=["حمى"], face_throat_swelling=["تورم شفاه"])
    assert values(ar.match("عندي حمى")) == ["fever_chills"]
    assert values(ar.match("وبالحمى الشديدة")) == ["fever_chills"], "و + ب + ال before the stem"
    assert values(ar.match("والتورم في الشفاه")) == ["face_throat_swelling"]
    assert values(ar.match("كم سعر الجلسة؟")) == []


def test_chinese_is_read_character_by_character_with_gaps_inside_a_term() -> None:
    zh = matcher("zh", face_throat_swelling=["脸 肿"], breathing_difficulty=["呼吸困难"])
    assert values(zh.match("打完以后脸非常肿")) == ["face_throat_swelling"]
    assert values(zh.match("我现在呼吸困难")) == ["breathing_difficulty"]
    assert values(zh.match("脸上打美塑疗法会不会很疼？消肿要多久")) == [], "more than four characters apart"


def test_a_word_written_with_an_equals_sign_matches_only_itself() -> None:
    es = matcher("es", pus_discharge=["pus="], fever_chills=["fiebre"])
    assert values(es.match("me sale pus")) == ["pus_discharge"]
    assert values(es.match("can the cocktail be pushed into skin?")) == []
    assert values(es.match("tengo fiebres")) == ["fever_chills"], "longer stems still take endings"


def test_one_entry_is_reported_once() -> None:
    de = matcher("de", fever_chills=["fieber", "schüttelfrost"])
    assert values(de.match("Fieber und Schüttelfrost, hohes Fieber")) == ["fever_chills"]


@pytest.fixture(scope="module")
def identifier() -> LanguageIdentifier:
    return LanguageIdentifier(languages=["tr", "ar", "ru", "de", "fr", "es", "it", "pt", "zh"])


@pytest.mark.parametrize(
    ("text", "code", "reason"),
    [
        ("ok", "en", "short"),
        ("botox?", "en", "short"),
        ("nefes alamiyorum", "en", "short"),
        ("dermapen vs prp", "en", "unsure"),
        ("can i shower after the session", "en", "english_words"),
        ("脸很肿", "zh", "script"),
        ("у меня опухли губы", "ru", "script"),
        ("عندي حمى بعد الجلسة", "ar", "script"),
        ("Mezoterapi ağrılı mı?", "tr", "detector"),
        ("Mezoterapi agrili mi", "tr", "detector"),
        ("Kann ich danach duschen?", "de", "detector"),
        ("mi cara esta hinchada", "es", "detector"),
    ],
)
def test_identify(identifier: LanguageIdentifier, text: str, code: str, reason: str) -> None:
    guess = identifier.identify(text)
    assert (guess.code, guess.reason) == (code, reason)


def test_english_terms_make_a_message_english(identifier: LanguageIdentifier) -> None:
    assert identifier.identify("Xarelto kullanıyorum, mezoterapi olur mu", english_terms=True).code == "en"


def test_a_channel_hint_breaks_a_tie_but_never_overrides_clear_evidence(identifier: LanguageIdentifier) -> None:
    close = "mi cara esta hinchada"  # Spanish, and nearly Portuguese to the detector
    assert identifier.identify(close).code == "es"
    assert identifier.identify(close, hint="pt-BR").code == "pt"
    assert identifier.identify("A mesoterapia dói muito?", hint="es-ES").code == "pt", "clearly Portuguese"
    assert identifier.identify("Kann ich danach duschen?", hint="tr-TR").code == "de"
    assert identifier.identify("how many sessions do I need", hint="tr").code == "en"
    assert identifier.identify("Mezoterapi ağrılı mı?", hint="not a language tag!").code == "tr"


def test_function_words_are_the_languages_own_not_english_ones() -> None:
    assert has_function_words("mi cara esta hinchada", "es")
    assert not has_function_words("dermapen vs prp", "it")
    assert not has_function_words("I do", "pt"), "two-letter words shared with English prove nothing"


def test_a_red_flag_in_another_language_replies_in_it_and_in_english_when_read_as_english() -> None:
    flags = (ForeignRedFlagMatch(language="tr", value="breathing_difficulty"),)
    packs = {"tr": (), "de": ()}
    short = verdict_of(LanguageGuess("en", "short"), flags, packs)
    assert (short.reply_languages, short.english_too, short.is_red_flag) == (("tr",), True, True)
    turkish = verdict_of(LanguageGuess("tr", "detector"), flags, packs)
    assert (turkish.reply_languages, turkish.english_too) == (("tr",), False)
    german = verdict_of(LanguageGuess("de", "detector"), (), packs)
    assert german.needs_language_reply and not german.is_red_flag
    greek = verdict_of(LanguageGuess("el", "script"), (), packs)
    assert not greek.needs_language_reply and greek.english_too, "no pack: the English reply"


def test_the_verdict_survives_the_parse_data_round_trip() -> None:
    verdict = LanguageVerdict(
        code="tr", reason="detector", red_flags=(ForeignRedFlagMatch("tr", "fever_chills"),),
        reply_languages=("tr",), english_too=False,
    )
    assert LanguageVerdict.from_record(verdict.as_record()) == verdict
    assert LanguageVerdict.from_record(None).code == "en"
    assert LanguageVerdict.from_record({"red_flags": [42, "nonsense"]}).red_flags == ()


def test_the_gate_routes_red_flags_first_then_other_languages() -> None:
    red = LanguageVerdict(code="en", reason="short", red_flags=(ForeignRedFlagMatch("tr", "fever_chills"),),
                          reply_languages=("tr",))
    other = LanguageVerdict(code="tr", reason="detector", reply_languages=("tr",), english_too=False)
    english = LanguageVerdict(code="en", reason="english_words")
    assert routed_intent(red, "ask_contraindication") == INTENT_RED_FLAG
    assert routed_intent(red, INTENT_RED_FLAG) is None
    assert routed_intent(other, "ask_pain") == INTENT_OUT_OF_SCOPE
    assert routed_intent(other, "ask_contraindication") == INTENT_OUT_OF_SCOPE, "the English classifier never saw Turkish"
    assert routed_intent(other, INTENT_RED_FLAG) == INTENT_OUT_OF_SCOPE
    assert routed_intent(english, "ask_pain") is None


def test_the_rail_reads_every_packs_red_flags_whatever_the_language() -> None:
    rail = LanguageRail(
        vocabularies={
            "tr": (ForeignRedFlag(id="breathing_difficulty", terms=("nefes alamı",)),),
            "de": (ForeignRedFlag(id="fever_chills", terms=("hohes fieber",)),),
        }
    )
    verdict = rail.read("Xarelto kullanıyorum, nefes alamıyorum", english_terms=True)
    assert verdict.code == "en" and [m.value for m in verdict.red_flags] == ["breathing_difficulty"]
    assert verdict.reply_languages == ("tr",) and verdict.english_too
    assert not rail.read("how long does the swelling last after the session?").red_flags


def test_an_english_red_flag_is_answered_in_english_though_other_vocabularies_share_its_word() -> None:
    rail = LanguageRail(
        vocabularies={
            "es": (ForeignRedFlag(id="pus_discharge", terms=("pus=",)),),
            "fr": (ForeignRedFlag(id="pus_discharge", terms=("pus=",)),),
        }
    )
    english = rail.read("my cheek is leaking pus and I have a fever", english_terms=True, english_red_flag=True)
    assert english.is_red_flag and english.reply_languages == () and english.english_too
    spanish = rail.read("me sale pus de la cara desde ayer", english_terms=True, english_red_flag=True)
    assert spanish.reply_languages == ("es",) and spanish.english_too, "English term, Spanish words: both texts"
