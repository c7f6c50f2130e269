"""The knowledge loader: the real knowledge base loads, and every broken rule is named."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import yaml

from mesoguide.constants import REQUIRED_TOPIC_IDS
from mesoguide.errors import KnowledgeError
from mesoguide.knowledge import KnowledgeBase, load_knowledge
from tests.conftest import copy_knowledge


def test_every_spec_topic_has_an_entry(kb: KnowledgeBase) -> None:
    assert set(REQUIRED_TOPIC_IDS) <= set(kb.topics)


def test_every_entry_is_reviewed_and_sourced(kb: KnowledgeBase) -> None:
    titles = {s.title for s in kb.sources}
    for topic in kb.topics.values():
        assert topic.reviewed_by and topic.reviewed_on, topic.id
        assert topic.sources and set(topic.sources) <= titles, topic.id


def test_sessions_has_area_variants(kb: KnowledgeBase) -> None:
    sessions = kb.topics["sessions"]
    assert {"face", "scalp", "body", "cellulite"} <= set(sessions.variants)
    assert sessions.text_for("scalp")[0] != sessions.text_for("face")[0]
    assert sessions.text_for("hands")[0] == sessions.answer  # no variant: general answer


def test_clinic_facts_fill_booking_and_contact(kb: KnowledgeBase) -> None:
    for topic_id in ("booking", "clinic_contact"):
        rendered = kb.render(kb.topics[topic_id].answer)
        assert "{" not in rendered
        assert kb.clinic.phone in rendered or kb.clinic.booking_url in rendered


# --- broken knowledge stops start-up with a message naming file, entry and field ----------


def _edit(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def _load_error(directory: Path) -> KnowledgeError:
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(directory)
    return caught.value


def test_missing_topic(tmp_path: Path) -> None:
    k = copy_knowledge(tmp_path)
    (k / "topics" / "pain.yml").unlink()
    err = _load_error(k)
    assert err.entry == "pain" and "pain.yml" in str(err) and "docs/product.md" in str(err)


def test_empty_answer(tmp_path: Path) -> None:
    k = copy_knowledge(tmp_path)
    _edit(k / "topics" / "downtime.yml", lambda d: d.update(answer="  "))
    err = _load_error(k)
    assert (err.path.name, err.entry, err.field) == ("downtime.yml", "downtime", "answer")


def test_missing_source(tmp_path: Path) -> None:
    k = copy_knowledge(tmp_path)
    _edit(k / "topics" / "cost.yml", lambda d: d.pop("sources"))
    err = _load_error(k)
    assert (err.path.name, err.entry, err.field) == ("cost.yml", "cost", "sources")


def test_unknown_source_title(tmp_path: Path) -> None:
    k = copy_knowledge(tmp_path)
    _edit(k / "topics" / "cost.yml", lambda d: d.update(sources=["A blog I read"]))
    err = _load_error(k)
    assert err.field == "sources" and "A blog I read" in str(err)


def test_missing_review_date(tmp_path: Path) -> None:
    k = copy_knowledge(tmp_path)
    _edit(k / "topics" / "pain.yml", lambda d: d.pop("reviewed_on"))
    err = _load_error(k)
    assert (err.entry, err.field) == ("pain", "reviewed_on")


def test_unknown_area(tmp_path: Path) -> None:
    k = copy_knowledge(tmp_path)
    _edit(k / "topics" / "sessions.yml", lambda d: d["variants"].update(elbow="Two sessions."))
    err = _load_error(k)
    assert (err.entry, err.field) == ("sessions", "variants.elbow")


def test_unknown_placeholder(tmp_path: Path) -> None:
    k = copy_knowledge(tmp_path)
    _edit(k / "topics" / "booking.yml", lambda d: d.update(answer="Call {phone_number}."))
    err = _load_error(k)
    assert err.field == "answer" and "phone_number" in str(err)


def test_too_long_answer(tmp_path: Path) -> None:
    k = copy_knowledge(tmp_path)
    _edit(k / "topics" / "pain.yml", lambda d: d.update(answer="word " * 130))
    assert "130 words" in str(_load_error(k))


def test_related_topic_must_exist(tmp_path: Path) -> None:
    k = copy_knowledge(tmp_path)
    _edit(k / "topics" / "pain.yml", lambda d: d.update(related=["painn"]))
    err = _load_error(k)
    assert (err.entry, err.field) == ("pain", "related")


def test_malformed_vocabulary_entry(tmp_path: Path) -> None:
    k = copy_knowledge(tmp_path)
    path = k / "vocabularies" / "contraindications.yml"
    _edit(path, lambda d: d["entries"].append({"id": "bad_entry", "group": "medicine", "terms": []}))
    err = _load_error(k)
    assert (err.path.name, err.entry, err.field) == ("contraindications.yml", "bad_entry", "terms")


def test_vocabulary_group_must_be_known(tmp_path: Path) -> None:
    k = copy_knowledge(tmp_path)
    path = k / "vocabularies" / "contraindications.yml"
    _edit(path, lambda d: d["entries"].append({"id": "x", "group": "feelings", "terms": ["sad"]}))
    err = _load_error(k)
    assert (err.entry, err.field) == ("x", "group")


def test_near_rule_gap_is_bounded(tmp_path: Path) -> None:
    k = copy_knowledge(tmp_path)
    path = k / "vocabularies" / "red_flags.yml"
    rule = {"id": "far", "group": "symptom", "near": {"first": ["a"], "second": ["b"], "max_gap": 50}}
    _edit(path, lambda d: d["entries"].append(rule))
    err = _load_error(k)
    assert (err.entry, err.field) == ("far", "near.max_gap")


def test_near_rule_order_is_true_or_false(tmp_path: Path) -> None:
    k = copy_knowledge(tmp_path)
    path = k / "vocabularies" / "red_flags.yml"
    rule = {"id": "ordered", "group": "symptom", "near": {"first": ["a"], "second": ["b"], "max_gap": 2, "in_order": "yes"}}
    _edit(path, lambda d: d["entries"].append(rule))
    err = _load_error(k)
    assert (err.entry, err.field) == ("ordered", "near.in_order")


def test_duplicate_vocabulary_term(tmp_path: Path) -> None:
    k = copy_knowledge(tmp_path)
    path = k / "vocabularies" / "contraindications.yml"
    _edit(path, lambda d: d["entries"][0]["terms"].append(d["entries"][0]["terms"][0].upper()))
    err = _load_error(k)
    assert err.field == "terms" and "twice" in str(err)


def test_invalid_yaml_names_the_file(tmp_path: Path) -> None:
    k = copy_knowledge(tmp_path)
    (k / "areas.yml").write_text("areas: [unclosed", encoding="utf-8")
    err = _load_error(k)
    assert err.path.name == "areas.yml" and "YAML" in str(err)


def test_missing_clinic_field(tmp_path: Path) -> None:
    k = copy_knowledge(tmp_path)
    _edit(k / "clinic.yml", lambda d: d["clinic"].pop("emergency_number"))
    err = _load_error(k)
    assert (err.path.name, err.field) == ("clinic.yml", "emergency_number")


def test_error_message_reads_as_a_fix() -> None:
    err = KnowledgeError("knowledge/topics/pain.yml", "is missing or empty", entry="pain", field="answer")
    assert re.fullmatch(r"knowledge/topics/pain\.yml, entry 'pain', field 'answer': is missing or empty", str(err))


@pytest.mark.parametrize("term", ["i'm <number>", "aged <age", "<age>"])
def test_vocabulary_term_slots_are_checked(tmp_path: Path, term: str) -> None:
    """Only the <age> slot exists, and a term cannot be a bare slot."""
    k = copy_knowledge(tmp_path)
    path = k / "vocabularies" / "contraindications.yml"
    _edit(path, lambda d: d["entries"].append({"id": "slotty", "group": "age", "terms": [term]}))
    err = _load_error(k)
    assert (err.entry, err.field) == ("slotty", "terms") and "<age>" in str(err)


# --- the reference line and the callback form's texts ---------------------------


def test_reference_line_needs_the_reference_placeholder(tmp_path: Path) -> None:
    k = copy_knowledge(tmp_path)
    _edit(k / "messages.yml", lambda d: d.update(reference_line="Your case is saved."))
    err = _load_error(k)
    assert err.field == "reference_line" and "{reference}" in str(err)


def test_reference_unavailable_must_exist(tmp_path: Path) -> None:
    k = copy_knowledge(tmp_path)
    _edit(k / "messages.yml", lambda d: d.pop("reference_unavailable"))
    assert _load_error(k).field == "reference_unavailable"


def test_callback_summary_needs_every_detail(tmp_path: Path) -> None:
    k = copy_knowledge(tmp_path)
    _edit(k / "messages.yml", lambda d: d["callback"].update(ask_confirm="Is {name} right?"))
    err = _load_error(k)
    assert (err.entry, err.field) == ("callback", "ask_confirm") and "{contact}" in str(err)


def test_callback_confirmation_needs_the_reference(tmp_path: Path) -> None:
    k = copy_knowledge(tmp_path)
    _edit(k / "messages.yml", lambda d: d["callback"].update(confirmed="Thanks, {clinic_name} will call."))
    assert (_load_error(k).entry, _load_error(k).field) == ("callback", "confirmed")


def test_callback_texts_must_all_exist_and_use_known_placeholders(tmp_path: Path) -> None:
    k = copy_knowledge(tmp_path)
    _edit(k / "messages.yml", lambda d: d["callback"].pop("invalid_contact"))
    assert _load_error(k).field == "invalid_contact"
    k2 = copy_knowledge(tmp_path / "second")
    _edit(k2 / "messages.yml", lambda d: d["callback"].update(ask_name="Name for {doctor}?"))
    assert "doctor" in str(_load_error(k2))


# --- the clinician's sign-off block: optional to load, well formed when present ------------

SIGNOFF = {"name": "Dr Jane Smith", "registration": "GMC 1234567", "signed_on": "2026-11-20", "fingerprint": "0123456789ab"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "clinician_signoff.name"),
        ({"registration": None}, "clinician_signoff.registration"),
        ({"signed_on": "last Tuesday"}, "clinician_signoff.signed_on"),
        ({"fingerprint": "signed"}, "clinician_signoff.fingerprint"),
    ],
)
def test_malformed_clinician_signoff_is_named(tmp_path: Path, change: dict, field: str) -> None:
    k = copy_knowledge(tmp_path)
    path = k / "topics" / "pain.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["clinician_signoff"] = {**SIGNOFF, **change}
    if "signed_on" not in change:
        data["clinician_signoff"]["signed_on"] = dt.date(2026, 11, 20)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    err = _load_error(k)
    assert (err.path.name, err.entry, err.field) == ("pain.yml", "pain", field)


def test_wellformed_signoff_loads_on_topics_and_messages(tmp_path: Path) -> None:
    k = copy_knowledge(tmp_path)
    signoff = {**SIGNOFF, "signed_on": dt.date(2026, 11, 20)}
    _edit(k / "topics" / "pain.yml", lambda d: d.update(clinician_signoff=signoff))
    _edit(k / "messages.yml", lambda d: d.update(clinician_signoff=signoff))
    kb = load_knowledge(k)
    assert kb.topics["pain"].clinician_signoff is not None and kb.topics["pain"].clinician_signoff.registration == "GMC 1234567"
    assert kb.messages.clinician_signoff is not None and kb.topics["aftercare"].clinician_signoff is None


def test_a_broken_variant_is_named_by_its_area(tmp_path: Path) -> None:
    k = copy_knowledge(tmp_path)
    _edit(k / "topics" / "sessions.yml", lambda d: d["variants"].update(face="word " * 130))
    err = _load_error(k)
    assert (err.entry, err.field) == ("sessions", "variants.face") and "130 words" in str(err)
