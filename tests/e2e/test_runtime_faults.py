"""Never silent, never open: the real servers under forged calls, floods and a killed action server.

This module runs its own stack (it kills processes) with the REST token required, as production
requires it. Times are printed, not asserted tightly: they are numbers, not pass/fail.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from mesoguide.client import LiveAssistant
from mesoguide.escalations import EscalationConfig, store_from_config
from mesoguide.knowledge import KnowledgeBase
from mesoguide.language.replies import render_in
from mesoguide.runtime.http_guard import ENV_REST_TOKEN
from mesoguide.stack import Backoff, Stack, isolated_config
from tests.e2e.conftest import MODELS

pytestmark = pytest.mark.e2e

RED_FLAG = "my lips and throat are swelling and I can't breathe properly since the injections"
REST_TOKEN = "test-rest-token-0123456789abcdef"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    config = isolated_config(tmp_path_factory.mktemp("faults"), model=MODELS, env={ENV_REST_TOKEN: REST_TOKEN})
    with Stack(config) as running:
        yield running


@pytest.fixture(scope="module")
def live(stack: Stack) -> LiveAssistant:
    return LiveAssistant(stack.config)


def _records(stack: Stack) -> list[dict]:
    store = store_from_config(EscalationConfig.from_env({**os.environ, **stack.config.env}))
    try:
        return list(store.list(limit=10_000))
    finally:
        store.dispose()


def _raw_post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_action_server_refuses_calls_without_the_shared_secret(stack: Stack) -> None:
    before = len(_records(stack))
    forged = (
        b'{"next_action": "action_escalate", "sender_id": "victim", "tracker": {"sender_id": "victim", "slots": {},'
        b' "latest_message": {"text": "pus and fever", "intent": {"name": "report_red_flag"}}, "events": []},'
        b' "domain": {}}'
    )
    url = stack.config.action_url + "/webhook"
    json_headers = {"Content-Type": "application/json"}
    assert _raw_post(url, forged, json_headers)[0] == 401, "no token"
    assert _raw_post(url + "?token=wrong-token-0123456789", forged, json_headers)[0] == 401, "wrong token"
    token = stack.config.action_token
    status, _ = _raw_post(f"{url}?token={token}", forged, {"Content-Type": "text/plain"})
    assert status == 415, "a cross-origin text/plain post from a browser page is refused"
    assert len(_records(stack)) == before, "nothing stored"


def test_rest_needs_its_token_and_well_formed_bodies(stack: Stack) -> None:
    url = stack.config.rasa_url + "/webhooks/rest/webhook"
    body = b'{"sender": "t1", "message": "does it hurt?"}'
    assert _raw_post(url, body, {"Content-Type": "application/json"})[0] == 401
    auth = {"Content-Type": "application/json", "Authorization": f"Bearer {REST_TOKEN}"}
    for bad in (b"[1, 2]", b'{"sender": "t1", "message": 5}', b'{"message": "hi"}', b"not json",
                b'{"sender": "t1", "message": "hi", "input_channel": "twilio"}'):
        status, reason = _raw_post(url, bad, auth)
        assert status == 400 and b"reason" in reason, (bad, status, reason)
    status, replies = _raw_post(url, body, auth)
    assert status == 200 and b"text" in replies


def test_a_million_characters_get_a_reply_in_bounded_time_and_others_are_not_held_up(
    live: LiveAssistant, kb: KnowledgeBase
) -> None:
    story = "I had my treatment last week and I was happy with how it went at the clinic. " * 14_000
    other: dict[str, float] = {}

    def another_patient() -> None:
        time.sleep(0.5)
        started = time.perf_counter()
        assert live.say("bystander", "how long does bruising last?").replies
        other["seconds"] = time.perf_counter() - started

    thread = threading.Thread(target=another_patient)
    thread.start()
    started = time.perf_counter()
    turn = live.say("long-story", story + " Now there is pus coming out of the spots and I have a fever.")
    seconds = time.perf_counter() - started
    thread.join()
    print(f"\n1.1-million-character message ({len(story):,} chars): reply in {seconds:.1f} s; "
          f"another patient meanwhile: {other['seconds']:.2f} s")
    assert len(story) > 1_000_000
    assert turn.outcome == "escalate:red_flag", "the red flag at the end of the story is found"
    assert kb.clinic.emergency_number in turn.replies[0]["text"]
    assert seconds < 30 and other["seconds"] < 10
    plain = live.say("long-plain", story)
    assert plain.outcome == "unavailable" and kb.render(kb.messages.runtime["too_long"]) in plain.replies[0]["text"]


def test_a_flood_in_one_conversation_gets_a_friendly_reply_never_silence(live: LiveAssistant, kb: KnowledgeBase) -> None:
    slow_down = kb.render(kb.messages.runtime["slow_down"])
    turns = [live.say("flood", "how much does it cost?") for _ in range(30)]
    assert all(t.replies for t in turns), "every message got a reply"
    limited = [t for t in turns if t.replies[0]["text"] == slow_down]
    assert limited, "past the burst, the conversation is asked to slow down"
    assert all(t.outcome == "unavailable" for t in limited)
    red = live.say("flood", RED_FLAG)
    assert red.outcome == "escalate:red_flag", "a red flag is never rate-limited into silence"


def test_killed_action_server_red_flag_still_urgent_then_restarted(stack: Stack, live: LiveAssistant, kb: KnowledgeBase) -> None:
    assert live.say("before-kill", "does it hurt?").outcome == "answer:pain"
    os.killpg(stack.pids()["actions"], signal.SIGKILL)
    time.sleep(0.5)
    started = time.perf_counter()
    urgent = live.say("after-kill", RED_FLAG)
    seconds = time.perf_counter() - started
    print(f"\naction server killed: red flag answered in {seconds:.2f} s")
    assert urgent.outcome == "escalate:red_flag"
    assert kb.clinic.emergency_number in urgent.replies[0]["text"]
    assert any(r["conversation_id"] == "rest:after-kill" and r["reason"] == "red_flag" for r in _records(stack)), \
        "the escalation is recorded by the Rasa server itself"
    faq = live.say("after-kill-faq", "how long does bruising last?")
    assert faq.outcome == "unavailable" and kb.clinic.phone in faq.replies[0]["text"]
    # The same path reads other languages: a Turkish red flag gets the Turkish urgent text, a
    # Turkish question the Turkish safe reply rather than English it may not read.
    turkish = kb.languages["tr"]
    urgent_tr = live.say("after-kill-tr", "Dün mezoterapi yaptırdım, şimdi nefes alamıyorum")
    assert urgent_tr.outcome == "escalate:red_flag"
    assert urgent_tr.replies[0]["text"].startswith(render_in(kb, "tr", turkish.red_flag))
    question_tr = live.say("after-kill-tr-faq", "Mezoterapi kaç seans sürüyor acaba?")
    assert question_tr.outcome == "unavailable" and question_tr.replies[0]["text"] == render_in(kb, "tr", turkish.english_only)

    backoff = Backoff(first_s=1.0)
    killed_at = time.monotonic()
    events: list[str] = []
    while "restarted the actions server" not in " ".join(events):
        assert time.monotonic() - killed_at < 30, events
        events += stack.supervise(backoff)
        time.sleep(0.2)
    stack.wait_ready(60)
    print(f"supervisor: action server back after {time.monotonic() - killed_at:.1f} s")
    assert live.say("after-restart", "does it hurt?").outcome == "answer:pain"


def test_files_with_patient_data_are_readable_by_their_owner_only(stack: Stack) -> None:
    directory = stack.config.log_dir.parent
    files = [directory / "tracker.db", directory / "escalations.db", *stack.config.log_dir.glob("*.log")]
    assert all(f.exists() for f in files[:2])
    modes = {f.name: oct(f.stat().st_mode & 0o777) for f in files}
    assert all(f.stat().st_mode & 0o077 == 0 for f in files), modes
    assert stack.config.log_dir.stat().st_mode & 0o077 == 0


def test_logs_of_this_stack_hold_no_conversation_ids(stack: Stack) -> None:
    text = "\n".join(p.read_text(errors="replace") for p in Path(stack.config.log_dir).glob("*.log"))
    for sender in ("rest:after-kill", "rest:flood", "rest:long-story"):
        assert sender not in text
    assert "pus coming out" not in text
