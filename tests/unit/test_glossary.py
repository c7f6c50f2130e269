"""The glossary: a technical word the classifier cannot place gets the topic that explains it.

Matching (whole words, plurals, misspelled long terms, ordinary words kept), the file's checks,
and the fallback action that uses it: never for a message that must escalate, never for a
message with no content, never for an out-of-scope case of any case set.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa_sdk import Tracker

from mesoguide import constants as c
from mesoguide.errors import KnowledgeError
from mesoguide.evaluation.cases import load_case_files
from mesoguide.guardrail.matcher import GuardrailMatcher
from mesoguide.guardrail.spelling import COMMON_LOG_PROB, _log_probabilities
from mesoguide.knowledge import KnowledgeBase, load_knowledge
from mesoguide.knowledge.glossary import FUZZY_FROM, Glossary, same_word, words_of
from tests.conftest import case_files, copy_knowledge, edit_yaml
from tests.unit.test_likely_topics import outcome_of, reply, unclear

GLOSSARY = Glossary(
    terms={
        ("lidocaine",): "pain",
        ("stem", "cell"): "innovations",
        ("deoxycholate",): "fat_reduction",
        ("prp",): "combination_treatments",
    },
    ordinary_words=frozenset({"deoxycholates"}),
)


@pytest.mark.parametrize(
    ("text", "topics"),
    [
        ("does it use lidocaine", ["pain"]),
        ("LIDOCAINE??", ["pain"]),
        ("what are stem cells", ["innovations"]),  # plural of the last word
        ("stem-cell meso", ["innovations"]),  # hyphen reads as a space
        ("what is deoxycolate", ["fat_reduction"]),  # one letter missing from a long term
        ("prp or stem cells, and lidocaine?", ["combination_treatments", "innovations", "pain"]),  # order of appearance
        ("cell stem", []),  # words of a term in another order
        ("prpx", []),  # inside a word
        ("prq", []),  # short terms are never read as misspellings
        ("deoxycholates", ["fat_reduction"]),  # a plural is the term itself, ordinary list or not
        ("what is the weather", []),
    ],
)
def test_terms_match_whole_words_plurals_and_misspelled_long_terms(text: str, topics: list[str]) -> None:
    assert GLOSSARY.topics_in(text) == topics


def test_an_ordinary_word_is_never_a_misspelling() -> None:
    assert same_word("anesthetic", "anesthetc", fuzzy=True)
    assert not same_word("anesthetic", "aesthetic", fuzzy=True, ordinary=frozenset({"aesthetic"}))


def test_the_real_glossary(kb: KnowledgeBase) -> None:
    assert kb.glossary.topics_in("what's phosphatidylcholine") == ["fat_reduction"]
    assert kb.glossary.topics_in("what does intradermal mean") == ["injection_technique"]
    assert kb.glossary.topics_in("is it an aesthetic clinic thing") == []
    assert set(kb.glossary.terms.values()) <= set(kb.topics)


def test_every_common_word_a_term_reaches_is_listed_as_ordinary(kb: KnowledgeBase) -> None:
    """A common English word within a misspelling's reach of a long term must stay itself:
    any that ``glossary.yml`` does not list under ``ordinary_words`` is named here."""
    single = {term[0]: topic for term, topic in kb.glossary.terms.items() if len(term) == 1}
    long_terms = [term for term in single if len(term) >= FUZZY_FROM]
    reached = sorted(
        word
        for word, log_prob in _log_probabilities().items()
        if log_prob > COMMON_LOG_PROB and word.isalpha() and word not in kb.glossary.ordinary_words and word not in single
        and any(word not in (t, t + "s", t + "es") and same_word(t, word, fuzzy=True) for t in long_terms)
    )
    assert reached == [], f"add these common words to ordinary_words in knowledge/glossary.yml: {reached}"


def test_no_out_of_scope_case_names_a_glossary_term(kb: KnowledgeBase) -> None:
    """The glossary answers only what the assistant covers: no message any case set expects a
    fallback for names one of its terms."""
    named = []
    # A message in another language gets its pack's safe reply before the glossary is read.
    for case in load_case_files(case_files(english=True)):
        for turn in case.turns:
            if c.OUTCOME_FALLBACK in turn.expect and kb.glossary.topics_in(turn.text):
                named.append(turn.text)
    assert named == []


# --- the fallback ----------------------------------------------------------------------------


def test_a_glossary_word_gets_its_topic_with_the_likeliest_others_offered(kb: KnowledgeBase, matcher: GuardrailMatcher) -> None:
    tracker = unclear("what's phosphatidylcholine", [("out_of_scope", 0.71), ("ask_cost", 0.15), ("ask_benefits", 0.12)])
    message, events = reply(kb, matcher, tracker)
    assert outcome_of(events) == "answer:fat_reduction"
    assert message["text"] == kb.render(kb.topics["fat_reduction"].answer)
    payloads = [b["payload"] for b in message["buttons"]]
    assert payloads[:2] == ["/ask_cost", "/ask_benefits"]
    assert len(payloads) == len(set(payloads))


def test_two_glossary_topics_answer_the_first_and_offer_the_second(kb: KnowledgeBase, matcher: GuardrailMatcher) -> None:
    message, events = reply(kb, matcher, unclear("exosomes or prp??", [("out_of_scope", 0.5)]))
    assert outcome_of(events) == "answer:innovations"
    assert message["buttons"][0]["payload"] == "/ask_combination_treatments"


def test_a_glossary_word_never_answers_what_must_be_escalated(kb: KnowledgeBase, matcher: GuardrailMatcher) -> None:
    tracker = unclear("I'm on warfarin, does it use lidocaine", [("out_of_scope", 0.5)])
    assert outcome_of(reply(kb, matcher, tracker)[1]) == "escalate:contraindication"
    tracker = unclear("my cheek went white and cold after, was it the lidocaine", [("out_of_scope", 0.5)])
    assert outcome_of(reply(kb, matcher, tracker)[1]) == "escalate:red_flag"


def test_a_message_without_content_gets_no_glossary_answer(kb: KnowledgeBase, matcher: GuardrailMatcher) -> None:
    tracker: Tracker = unclear("prp", [("out_of_scope", 0.5)])
    tracker.latest_message[c.PARSE_KEY_GUARDRAIL]["has_content"] = False
    assert outcome_of(reply(kb, matcher, tracker)[1]) == c.OUTCOME_FALLBACK


# --- the file's checks -------------------------------------------------------------------------


def test_the_glossary_is_optional(tmp_path: Path) -> None:
    k = copy_knowledge(tmp_path)
    (k / "glossary.yml").unlink()
    assert load_knowledge(k).glossary.terms == {}


def test_an_unknown_topic_is_named(tmp_path: Path) -> None:
    k = copy_knowledge(tmp_path)
    edit_yaml(k / "glossary.yml", lambda d: d["glossary"].append({"topic": "wrinkle_cream", "terms": ["retinol"]}))
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(k)
    assert (caught.value.path.name, caught.value.entry, caught.value.field) == ("glossary.yml", "wrinkle_cream", "topic")


def test_a_term_in_two_topics_is_named_with_both(tmp_path: Path) -> None:
    k = copy_knowledge(tmp_path)
    edit_yaml(k / "glossary.yml", lambda d: d["glossary"].append({"topic": "ingredients", "terms": ["Lidocaine"]}))
    with pytest.raises(KnowledgeError, match="'Lidocaine' is listed twice \\(also under 'pain'\\)"):
        load_knowledge(k)


def test_words_of_reads_hyphens_and_punctuation_as_spaces() -> None:
    assert words_of("Non-cross-linked HA, pls!") == ("non", "cross", "linked", "ha", "pls")
