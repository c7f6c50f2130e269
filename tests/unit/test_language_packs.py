"""The clinic's language packs as content, and English staying English.

Every pack's texts carry the clinic's phone, hours and the emergency number; a half-written pack
never loads; an unsigned pack never releases. English messages, short ones above all, are never
taken for another language, and no other language's red-flag words fire on them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import pytest
import yaml
from spacy.language import Language

from mesoguide.errors import KnowledgeError
from mesoguide.evaluation.cases import load_case_files
from mesoguide.guardrail.matcher import GuardrailMatcher
from mesoguide.knowledge import ForeignRedFlag, KnowledgeBase, load_knowledge
from mesoguide.knowledge.release import fingerprint, release_problems
from mesoguide.language.rail import LanguageRail, LanguageVerdict
from mesoguide.language.replies import render_in
from mesoguide.paths import REPO_ROOT
from tests.conftest import case_files, copy_knowledge, edit_yaml

LANGUAGES = ("tr", "ar", "ru", "de", "fr", "es", "it", "pt", "zh")
SHORT_ENGLISH = REPO_ROOT / "tests" / "languages" / "cases" / "short_english.yml"
#: Messages of the English case sets that are written in another language on purpose (questions
#: out of scope): they get the safe reply of their language, which is right.
WRITTEN_IN_ANOTHER_LANGUAGE = {
    "¿Dónde está la estación de tren?",
    "Quelle heure est-il à Tokyo ?",
    "Ich suche ein gutes Restaurant in Berlin",
    "Qual è la capitale dell'Australia?",
    "Как пройти в библиотеку?",
    "Onde fica a praia mais próxima?",
}


@pytest.fixture(scope="module")
def rail(kb: KnowledgeBase) -> LanguageRail:
    return LanguageRail.from_packs(kb.languages)


def read(rail: LanguageRail, matcher: GuardrailMatcher, text: str) -> LanguageVerdict:
    """The verdict as the Rasa component makes it: English guardrail terms, areas aside."""
    terms = {m.entity for m in matcher.match(text)}
    return rail.read(text, english_terms=bool(terms - {"treatment_area"}), english_red_flag="red_flag" in terms)


def test_the_required_languages_have_packs(kb: KnowledgeBase) -> None:
    assert set(kb.languages) >= set(LANGUAGES)


@pytest.mark.parametrize("code", LANGUAGES)
def test_every_text_of_a_pack_gives_the_ways_to_reach_someone(kb: KnowledgeBase, code: str) -> None:
    pack = kb.languages[code]
    for text in (pack.english_only, pack.red_flag):
        rendered = kb.render(text)
        assert kb.clinic.phone in rendered and kb.clinic.opening_hours in rendered
        assert kb.clinic.emergency_number in rendered and kb.clinic.out_of_hours.phone in rendered
        assert "{" not in rendered and "}" not in rendered
    assert "MG-ABC-123" in kb.render(pack.reference_line.replace("{reference}", "MG-ABC-123"))
    assert kb.clinic.phone in kb.render(pack.reference_unavailable)
    assert pack.red_flags and all(entry.terms for entry in pack.red_flags)


def test_a_pack_without_its_vocabulary_does_not_load(tmp_path: Path) -> None:
    knowledge = copy_knowledge(tmp_path)
    (knowledge / "vocabularies" / "red_flags.tr.yml").unlink()
    with pytest.raises(KnowledgeError, match=r"red_flags\.tr\.yml.*is missing"):
        load_knowledge(knowledge)


def test_a_vocabulary_entry_must_name_an_english_red_flag(tmp_path: Path) -> None:
    knowledge = copy_knowledge(tmp_path)
    edit_yaml(knowledge / "vocabularies" / "red_flags.de.yml", lambda d: d["entries"][0].update(id="no_such_entry"))
    with pytest.raises(KnowledgeError, match="no_such_entry.*English vocabulary"):
        load_knowledge(knowledge)


def test_the_file_must_say_its_own_language(tmp_path: Path) -> None:
    knowledge = copy_knowledge(tmp_path)
    edit_yaml(knowledge / "messages.fr.yml", lambda d: d.update(language="es"))
    with pytest.raises(KnowledgeError, match="language: fr"):
        load_knowledge(knowledge)


def test_a_safe_reply_without_the_emergency_number_does_not_load(tmp_path: Path) -> None:
    knowledge = copy_knowledge(tmp_path)
    edit_yaml(
        knowledge / "messages.it.yml",
        lambda d: d.update(english_only=d["english_only"].replace("{emergency_number}", "112")),
    )
    with pytest.raises(KnowledgeError, match=r"english_only.*\{emergency_number\}"):
        load_knowledge(knowledge)


def test_an_unsigned_pack_stops_a_release_and_a_term_edit_needs_a_new_signature(tmp_path: Path) -> None:
    knowledge = copy_knowledge(tmp_path)
    kb = load_knowledge(knowledge)
    problems = [p for p in release_problems(kb, knowledge, today=dt.date(2026, 11, 24)) if p.path.name == "messages.tr.yml"]
    assert problems and problems[0].field.startswith("clinician_signoff")
    before = fingerprint(kb.languages["tr"])
    edit_yaml(knowledge / "vocabularies" / "red_flags.tr.yml", lambda d: d["entries"][0]["terms"].append("yeni terim"))
    assert fingerprint(load_knowledge(knowledge).languages["tr"]) != before


def short_english() -> list[str]:
    return yaml.safe_load(SHORT_ENGLISH.read_text(encoding="utf-8"))["texts"]


def test_at_least_200_short_english_messages_stay_english(rail: LanguageRail, matcher: GuardrailMatcher) -> None:
    texts = short_english()
    assert len(texts) >= 200
    wrong = []
    for text in texts:
        verdict = read(rail, matcher, text)
        if verdict.code != "en" or verdict.red_flags or verdict.reply_languages:
            wrong.append((text, verdict.as_record()))
    assert not wrong, wrong


def english_case_texts() -> list[tuple[str, bool]]:
    """Every turn of the English case sets, with whether it must be escalated."""
    found = []
    for case in load_case_files(case_files(english=True)):
        for index, turn in enumerate(case.turns):
            found.append((turn.text, case.must_escalate and index == len(case.turns) - 1))
    return found


def test_case_files_in_another_language_are_read_as_a_language_with_a_pack(
    kb: KnowledgeBase, rail: LanguageRail, matcher: GuardrailMatcher
) -> None:
    """What those files expect (the pack's safe reply) rests on this verdict."""
    cases = load_case_files(case_files(english=False))
    assert cases
    misread = [(t.text, read(rail, matcher, t.text).code) for c in cases for t in c.turns]
    assert [(text, code) for text, code in misread if code not in kb.languages] == []


def test_english_case_sets_stay_english_and_no_other_language_fires_on_them(
    rail: LanguageRail, matcher: GuardrailMatcher
) -> None:
    texts = english_case_texts()
    assert len(texts) > 4000
    other_language, false_red_flags = [], []
    for text, must_escalate in texts:
        verdict = read(rail, matcher, text)
        if verdict.code != "en" and text not in WRITTEN_IN_ANOTHER_LANGUAGE:
            other_language.append((text, verdict.code))
        if verdict.red_flags and not must_escalate:
            false_red_flags.append((text, [f"{m.language}:{m.value}" for m in verdict.red_flags]))
    assert not other_language, other_language
    assert not false_red_flags, false_red_flags


def _term_pieces(nlp: Language, entries: Sequence[ForeignRedFlag], code: str) -> set[tuple[str, ...]]:
    """Each term's pieces: the text each of its tokens starts with (a Chinese term: its characters).

    Every token of a pattern is required (only the gaps between them are optional) and must
    start with its piece, and a token is a piece of the folded message: so a message that lacks
    one piece of every term cannot match, and the unscreened matcher (about 1 ms a message per
    language) needs to run only on the others. Derived from the terms with spaCy's tokenizer,
    not from the screens under test.
    """
    from mesoguide.language.fold import fold

    found = set()
    for entry in entries:
        for term in entry.terms:
            folded = fold(term, code)
            if code == "zh":
                found.add(tuple(ch for ch in folded if not ch.isspace()))
                continue
            words = [w.removesuffix("=") or w for w in folded.split()]
            found.add(tuple(t.lower_ for w in words for t in nlp.make_doc(w)))
    return found


def test_the_matchers_screens_drop_only_messages_the_matcher_would_not_match(kb: KnowledgeBase) -> None:
    """The screens before each language's matcher (a term's first word, then every stem of one
    term) skip messages, never matches: every English case-set turn and every language case
    gets what the unscreened matcher finds."""
    from mesoguide.language.fold import fold
    from mesoguide.language.red_flags import LanguageRedFlagMatcher

    texts = [text for text, _ in english_case_texts()]
    for path in sorted((REPO_ROOT / "tests" / "languages" / "cases").glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        texts += [case["text"] for case in data.get("cases", [])] + list(data.get("texts", []))
    matched = 0
    for code, pack in kb.languages.items():
        screened = LanguageRedFlagMatcher(language=code, entries=pack.red_flags)
        nlp, unscreened = screened._nlp, screened._matcher
        pieces = _term_pieces(nlp, pack.red_flags, code)
        for text in texts:
            folded = fold(text, code)
            if not any(all(piece in folded for piece in term) for term in pieces):
                # No pattern can match: each needs all of one term's pieces in the message.
                assert screened.match(text) == [], (code, text)
                continue
            found = sorted(unscreened(nlp.make_doc(folded)), key=lambda m: (m[1], m[2]))
            expected = list(dict.fromkeys(nlp.vocab.strings[match_id] for match_id, _, _ in found))
            assert [m.value for m in screened.match(text)] == expected, (code, text)
            matched += bool(expected)
    assert matched > 100  # the comparison covers messages that match, not only ones that do not


def test_clinic_facts_inside_right_to_left_texts_keep_their_own_order(kb: KnowledgeBase) -> None:
    arabic = render_in(kb, "ar", kb.languages["ar"].english_only)
    assert f"\u2068{kb.clinic.phone}\u2069" in arabic, "the phone number is isolated inside Arabic"
    assert "\u2068" not in render_in(kb, "tr", kb.languages["tr"].english_only)
    line = render_in(kb, "ar", kb.languages["ar"].reference_line, reference="MG-ABC-123")
    assert "\u2068MG-ABC-123\u2069" in line
