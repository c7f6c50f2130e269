"""The release gate (``make check-release``, :func:`require_release_ready`): the example clinic and
unsigned texts are refused with every field named; a real, checked, signed configuration passes."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mesoguide import stack
from mesoguide.errors import ReleaseNotReadyError
from mesoguide.knowledge import load_knowledge
from mesoguide.knowledge.release import check_release, fingerprint, main, require_release_ready
from mesoguide.paths import REPO_ROOT
from tests.conftest import copy_knowledge, edit_yaml

TODAY = dt.date.today()
REAL_CLINIC = {
    "name": "Riverside Skin Clinic",
    "phone": "+44 20 7123 4567",
    "email": "reception@riverside-skin-clinic.co.uk",
    "address": "12 River Road, London SE1 9XX",
    "opening_hours": "Monday to Friday 9:00-18:00",
    "booking_url": "https://riverside-skin-clinic.co.uk/book",
    "emergency_number": "999",
    "out_of_hours": {"service": "NHS 111", "phone": "111"},
    "regulatory_note": {"country": "", "text": ""},
    "facts_checked": {"by": "A. Patel, practice manager", "on": TODAY - dt.timedelta(days=10)},
}
SIGNER = {"name": "Dr Jane Smith", "registration": "GMC 1234567", "signed_on": TODAY - dt.timedelta(days=5)}


@pytest.fixture(scope="module")
def signed_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A knowledge base a clinic could release: real facts, checked, every text signed."""
    k = copy_knowledge(tmp_path_factory.mktemp("signed"))
    edit_yaml(k / "clinic.yml", lambda d: d.update(example=False, clinic=dict(REAL_CLINIC)))
    kb = load_knowledge(k)
    for topic in kb.topics.values():
        signoff = {**SIGNER, "fingerprint": fingerprint(topic)}
        edit_yaml(
            k / "topics" / f"{topic.id}.yml",
            lambda d, s=signoff: d.update(reviewed_by="MesoGuide content team", clinician_signoff=s),
        )
    edit_yaml(k / "messages.yml", lambda d: d.update(clinician_signoff={**SIGNER, "fingerprint": fingerprint(kb.messages)}))
    for pack in kb.languages.values():
        signoff = {**SIGNER, "fingerprint": fingerprint(pack)}
        edit_yaml(k / f"messages.{pack.code}.yml", lambda d, s=signoff: d.update(clinician_signoff=s))
    return k


@pytest.fixture
def signed(signed_template: Path, tmp_path: Path) -> Path:
    """A fresh copy of the signed knowledge base, to break on purpose."""
    return Path(shutil.copytree(signed_template, tmp_path / "knowledge"))


def _located(problems: list[Any]) -> set[tuple[str, str | None, str]]:
    return {(p.path.name, p.entry, p.field) for p in problems}


def test_a_real_checked_and_signed_configuration_passes(signed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_release(signed) == []
    kb = require_release_ready(signed)
    assert kb.clinic.name == "Riverside Skin Clinic" and kb.topics["pain"].clinician_signoff is not None
    assert main([str(signed)]) == 0
    assert "release check passed" in capsys.readouterr().out


def test_the_example_clinic_and_unsigned_texts_are_refused_field_by_field() -> None:
    problems = check_release(REPO_ROOT / "knowledge")
    located = _located(problems)
    clinic = {
        ("clinic.yml", "clinic", f)
        for f in (
            "name",
            "phone",
            "email",
            "address",
            "opening_hours",
            "booking_url",
            "emergency_number",
            "out_of_hours.service",
            "out_of_hours.phone",
            "facts_checked",
        )
    }
    assert clinic | {("clinic.yml", None, "example")} <= located
    kb = load_knowledge(REPO_ROOT / "knowledge")
    for topic_id in kb.topics:
        assert (f"{topic_id}.yml", topic_id, "clinician_signoff") in located
        assert (f"{topic_id}.yml", topic_id, "reviewed_by") in located  # "pending clinician sign-off"
    assert ("messages.yml", None, "clinician_signoff") in located
    for code in kb.languages:
        assert (f"messages.{code}.yml", None, "clinician_signoff") in located
    with pytest.raises(ReleaseNotReadyError) as refused:
        require_release_ready(REPO_ROOT / "knowledge")
    assert len(refused.value.problems) == len(problems)
    assert "field 'out_of_hours.phone'" in str(refused.value)


def _clinic(change: Callable[[dict[str, Any]], Any]) -> Callable[[Path], None]:
    return lambda k: edit_yaml(k / "clinic.yml", lambda d: change(d["clinic"]))


def _topic(topic_id: str, change: Callable[[dict[str, Any]], Any]) -> Callable[[Path], None]:
    return lambda k: edit_yaml(k / "topics" / f"{topic_id}.yml", change)


def _messages(change: Callable[[dict[str, Any]], Any]) -> Callable[[Path], None]:
    return lambda k: edit_yaml(k / "messages.yml", change)


OLD = TODAY - dt.timedelta(days=400)
TOMORROW = TODAY + dt.timedelta(days=1)
FAILURES: dict[str, tuple[Callable[[Path], None], set[tuple[str, str | None, str]]]] = {
    "example flag": (lambda k: edit_yaml(k / "clinic.yml", lambda d: d.update(example=True)), {("clinic.yml", None, "example")}),
    "example name": (_clinic(lambda c: c.update(name="Riverside (EXAMPLE)")), {("clinic.yml", "clinic", "name")}),
    "example phone": (_clinic(lambda c: c.update(phone="+44 20 7946 0000 (EXAMPLE)")), {("clinic.yml", "clinic", "phone")}),
    "example e-mail": (_clinic(lambda c: c.update(email="hello@clinic.example")), {("clinic.yml", "clinic", "email")}),
    "example link": (
        _clinic(lambda c: c.update(booking_url="https://example.com/book")),
        {("clinic.yml", "clinic", "booking_url")},
    ),
    "example hours": (_clinic(lambda c: c.update(opening_hours="9-5 (EXAMPLE)")), {("clinic.yml", "clinic", "opening_hours")}),
    "example emergency": (
        _clinic(lambda c: c.update(emergency_number="999 (EXAMPLE)")),
        {("clinic.yml", "clinic", "emergency_number")},
    ),
    "emergency without digits": (
        _clinic(lambda c: c.update(emergency_number="the local one")),
        {("clinic.yml", "clinic", "emergency_number")},
    ),
    "example out-of-hours service": (
        _clinic(lambda c: c["out_of_hours"].update(service="the on-call nurse line (EXAMPLE)")),
        {("clinic.yml", "clinic", "out_of_hours.service")},
    ),
    "out-of-hours is the daytime phone": (
        _clinic(lambda c: c["out_of_hours"].update(phone="+44 20 7123-4567")),  # same digits, other spacing
        {("clinic.yml", "clinic", "out_of_hours.phone")},
    ),
    "out-of-hours without digits": (
        _clinic(lambda c: c["out_of_hours"].update(phone="ask reception")),
        {("clinic.yml", "clinic", "out_of_hours.phone")},
    ),
    "out-of-hours missing": (_clinic(lambda c: c.pop("out_of_hours")), {("clinic.yml", "clinic", "out_of_hours")}),
    "facts never checked": (_clinic(lambda c: c.pop("facts_checked")), {("clinic.yml", "clinic", "facts_checked")}),
    "facts checked long ago": (
        _clinic(lambda c: c["facts_checked"].update(on=TODAY - dt.timedelta(days=91))),
        {("clinic.yml", "clinic", "facts_checked.on")},
    ),
    "facts checked tomorrow": (
        _clinic(lambda c: c["facts_checked"].update(on=TOMORROW)),
        {("clinic.yml", "clinic", "facts_checked.on")},
    ),
    "example regulatory note": (
        _clinic(lambda c: c.update(regulatory_note={"country": "Exampleland", "text": "EXAMPLE note."})),
        {("clinic.yml", "clinic", "regulatory_note.text")},
    ),
    "topic unsigned": (_topic("pain", lambda d: d.pop("clinician_signoff")), {("pain.yml", "pain", "clinician_signoff")}),
    "signer pending": (
        _topic("pain", lambda d: d["clinician_signoff"].update(name="pending clinician sign-off")),
        {("pain.yml", "pain", "clinician_signoff.name")},
    ),
    "signer is the content team": (
        _topic("pain", lambda d: d["clinician_signoff"].update(name="MesoGuide content team")),
        {("pain.yml", "pain", "clinician_signoff.name")},
    ),
    "no registration": (
        _topic("pain", lambda d: d["clinician_signoff"].update(registration="TBC")),
        {("pain.yml", "pain", "clinician_signoff.registration")},
    ),
    "sign-off too old": (
        _topic("pain", lambda d: d["clinician_signoff"].update(signed_on=OLD)),
        {("pain.yml", "pain", "clinician_signoff.signed_on")},
    ),
    "sign-off dated tomorrow": (
        _topic("pain", lambda d: d["clinician_signoff"].update(signed_on=TOMORROW)),
        {("pain.yml", "pain", "clinician_signoff.signed_on")},
    ),
    "answer edited after sign-off": (
        _topic("pain", lambda d: d.update(answer=d["answer"] + " Numbing helps.")),
        {("pain.yml", "pain", "clinician_signoff.fingerprint")},
    ),
    "variant edited after sign-off": (
        _topic("sessions", lambda d: d["variants"].update(face="Two sessions are enough.")),
        {("sessions.yml", "sessions", "clinician_signoff.fingerprint")},
    ),
    "source changed after sign-off": (
        _topic("pain", lambda d: d["sources"].pop()),
        {("pain.yml", "pain", "clinician_signoff.fingerprint")},
    ),
    "review still pending": (
        _topic("pain", lambda d: d.update(reviewed_by="content team (pending clinician sign-off)")),
        {("pain.yml", "pain", "reviewed_by")},
    ),
    "messages unsigned": (_messages(lambda d: d.pop("clinician_signoff")), {("messages.yml", None, "clinician_signoff")}),
    "red-flag text edited after sign-off": (
        _messages(lambda d: d["escalation"].update(red_flag="Call us on {phone} ({opening_hours}).")),
        {("messages.yml", None, "clinician_signoff.fingerprint")},
    ),
}


@pytest.mark.parametrize("case", sorted(FAILURES))
def test_each_failing_field_is_named(signed: Path, case: str) -> None:
    break_it, expected = FAILURES[case]
    break_it(signed)
    assert _located(check_release(signed)) == expected


def test_buttons_and_editorial_fields_need_no_new_signature(signed: Path) -> None:
    _topic("pain", lambda d: d.update(related=["aftercare"], reviewed_on=TODAY))(signed)
    assert check_release(signed) == []


def test_command_line_names_every_field_and_prints_fingerprints(signed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(REPO_ROOT / "knowledge")]) == 1
    err = capsys.readouterr().err
    assert "clinic.yml, entry 'clinic', field 'out_of_hours.phone'" in err and "release check failed" in err
    assert main(["--fingerprints", str(signed)]) == 0
    printed = dict(line.split("  ")[::-1] for line in capsys.readouterr().out.splitlines())
    kb = load_knowledge(signed)
    assert printed["topics/pain.yml"] == fingerprint(kb.topics["pain"]) and printed["messages.yml"] == fingerprint(kb.messages)


@pytest.mark.parametrize(("knowledge", "status"), [("example", 2), ("signed", 0)])
def test_make_check_release(signed: Path, knowledge: str, status: int) -> None:
    """The Makefile target runs the gate on MESOGUIDE_KNOWLEDGE_DIR (-o: never reinstall here)."""
    directory = REPO_ROOT / "knowledge" if knowledge == "example" else signed
    done = subprocess.run(
        ["make", "-s", "-o", ".venv/.installed", "check-release"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "MESOGUIDE_KNOWLEDGE_DIR": str(directory)},
        timeout=120,
        check=False,
    )
    assert done.returncode == status, done.stderr
    assert ("field 'example'" in done.stderr) == (knowledge == "example")


def test_make_run_warns_but_starts_with_the_example_clinic(capsys: pytest.CaptureFixture[str]) -> None:
    assert stack._check_knowledge() is True
    assert "not ready for patients" in capsys.readouterr().err


def test_the_production_profile_refuses_the_example_clinic_before_starting_anything() -> None:
    """`make run-production` with the example clinic exits 2 and names the fields; it starts nothing."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MESOGUIDE_KNOWLEDGE_DIR", "MESOGUIDE_PROD_"))}
    proc = subprocess.run(
        [sys.executable, "-m", "mesoguide.production", "run"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "refusing to start the production profile" in proc.stderr
    assert "field 'phone': holds an example value" in proc.stderr
    assert "starting the production profile" not in proc.stdout
