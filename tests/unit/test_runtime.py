"""The runtime's pieces on their own: ids, limits, long-message reading, the front doors, logs."""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace
from typing import Any

import pytest

from mesoguide.conversation_ids import conversation_id
from mesoguide.errors import ActionTokenError
from mesoguide.guardrail.matcher import GuardrailMatcher
from mesoguide.guardrail.precedence import Escalation
from mesoguide.knowledge import KnowledgeBase
from mesoguide.logsafe import hashed, remove_patient_fields, scrub
from mesoguide.runtime.action_auth import action_token, call_problem
from mesoguide.runtime.http_guard import rest_body_problem
from mesoguide.runtime.never_silent import ReplyWatch, chunks, escalation_in, unique_sentences
from mesoguide.runtime.rate_limit import RateLimiter
from mesoguide.stack import Backoff


def test_conversation_ids_are_namespaced_by_channel() -> None:
    assert conversation_id("rest", "+447700900123") == "rest:+447700900123"
    assert conversation_id("twilio", "+447700900123") == "twilio:+447700900123"
    assert conversation_id("rest", "+447700900123") != conversation_id("twilio", "+447700900123")
    assert conversation_id("rest", "rest:me") == "rest:me", "applied once only"
    assert conversation_id("rest", "twilio:+44") == "rest:twilio:+44", "a REST sender cannot name another channel"
    assert conversation_id(None, "x") == "unknown:x"


def test_rate_limiter_allows_a_burst_then_the_rate() -> None:
    limiter = RateLimiter(burst=3, per_second=1.0)
    assert [limiter.allow("a", now=0.0) for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("b", now=0.0), "buckets are per key"
    assert limiter.allow("a", now=1.0) and not limiter.allow("a", now=1.0)


def test_rate_limiter_forgets_the_oldest_keys() -> None:
    limiter = RateLimiter(burst=1, per_second=0.0, max_keys=2)
    for key in ("a", "b", "c"):
        assert limiter.allow(key, now=0.0)
    assert limiter.allow("a", now=0.0), "'a' was forgotten, so it starts with a full bucket"


def test_chunks_cover_the_whole_text_with_overlap() -> None:
    text = " ".join(f"word{i}" for i in range(3000))
    pieces = chunks(text, 1000, overlap=100)
    assert all(len(p) <= 1000 for p in pieces)
    assert pieces[0].startswith("word0") and pieces[-1].endswith("word2999")
    for first, second in zip(pieces, pieces[1:], strict=False):
        assert first[-50:] in second, "consecutive pieces overlap"


def test_unique_sentences_keeps_each_sentence_once_in_order() -> None:
    text = "It went well. It went well.  it went WELL. Now there is pus.\nIt went well."
    assert unique_sentences(text) == "It went well.\nNow there is pus."


@pytest.mark.parametrize(
    ("tail", "expected"),
    [
        ("Now there is pus coming out and I have a fever.", Escalation.RED_FLAG),
        ("By the way I am pregnant, is that ok?", Escalation.CONTRAINDICATION),
        ("How many sessions will I need?", None),
    ],
)
def test_the_guardrail_reads_a_long_story_to_its_end(matcher: GuardrailMatcher, tail: str, expected: Escalation | None) -> None:
    story = " ".join(f"On day {i} the area looked about the same as the day before." for i in range(400)) + " " + tail
    escalation, terms, whole = escalation_in(story, matcher, chunk_chars=4000, budget_s=60)
    assert len(story) > 20_000 and whole
    assert escalation is expected, terms


def test_reading_stops_at_the_budget_and_says_so(matcher: GuardrailMatcher) -> None:
    story = " ".join(f"Sentence number {i} about my visit." for i in range(3000))
    _, _, whole = escalation_in(story, matcher, chunk_chars=2000, budget_s=0.0)
    assert not whole


class _Channel:
    def __init__(self) -> None:
        self.sent: list[tuple[str, Any]] = []

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        self.sent.append((recipient_id, message))

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        self.sent.append((recipient_id, text))


def test_reply_watch_counts_and_sends_to_the_id_the_channel_knows() -> None:
    inner = _Channel()
    watch = ReplyWatch(inner, "+447700900123")  # type: ignore[arg-type]
    asyncio.run(watch.send_response("twilio:+447700900123", {"text": "hi"}))
    asyncio.run(watch.send_text_message("twilio:+447700900123", "again"))
    assert watch.sent == 2
    assert [r for r, _ in inner.sent] == ["+447700900123", "+447700900123"]


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"[1, 2]", "JSON object"),
        (b"nope", "must be JSON"),
        (b'{"sender": "a", "message": 5}', "'message'"),
        (b'{"message": "hi"}', "'sender'"),
        (b'{"sender": "", "message": "hi"}', "'sender'"),
        (b'{"sender": "' + b"x" * 200 + b'", "message": "hi"}', "'sender'"),
        (b'{"sender": "a\\u0000b", "message": "hi"}', "control characters"),
        (b'{"sender": "a", "message": "hi", "input_channel": "twilio"}', "input_channel"),
        (b'{"sender": "a", "message": "hi", "metadata": 3}', "metadata"),
        (b"\xff\xfe", "must be JSON"),
    ],
)
def test_malformed_rest_bodies_are_named(body: bytes, problem: str) -> None:
    reason = rest_body_problem(body)
    assert reason is not None and problem in reason


def test_a_well_formed_rest_body_passes() -> None:
    assert rest_body_problem(b'{"sender": "a", "message": "", "metadata": {"x": 1}}') is None


def _request(path: str = "/webhook", token: str | None = None, content_type: str = "application/json") -> Any:
    return SimpleNamespace(path=path, args={"token": token} if token else {}, method="POST", content_type=content_type)


def test_action_calls_need_the_secret_and_json() -> None:
    secret = "s" * 32
    assert call_problem(_request(), secret)[0] == 401  # type: ignore[index]
    assert call_problem(_request(token="t" * 32), secret)[0] == 401  # type: ignore[index]
    assert call_problem(_request(token=secret, content_type="text/plain"), secret)[0] == 415  # type: ignore[index]
    assert call_problem(_request(token=secret, content_type="application/json; charset=utf-8"), secret) is None
    assert call_problem(_request(path="/health"), secret) is None


def test_the_action_server_needs_a_token_to_start() -> None:
    with pytest.raises(ActionTokenError, match="MESOGUIDE_ACTION_TOKEN"):
        action_token({})
    with pytest.raises(ActionTokenError):
        action_token({"MESOGUIDE_ACTION_TOKEN": "short"})
    assert action_token({"MESOGUIDE_ACTION_TOKEN": "x" * 16}) == "x" * 16


def test_log_lines_lose_ids_phones_and_emails() -> None:
    line = "Circuit breaker tripped for sender 'twilio:+447700900123' (ana@example.com, 07700 900123)"
    clean = scrub(line)
    assert "+447700900123" not in clean and "ana@example.com" not in clean and "07700 900123" not in clean
    assert hashed("twilio:+447700900123") in clean
    assert hashed("x") == hashed("x") != hashed("y")


def test_structured_logs_lose_text_fields() -> None:
    event = remove_patient_fields(None, "debug", {"event": "processor.message.parse", "parse_data_text": "I am pregnant",
                                                  "sender_id": "rest:me", "note": "call 07700 900123"})
    assert event["parse_data_text"] == "[removed]" and event["sender_id"] == hashed("rest:me")
    assert "07700" not in event["note"]


def test_every_record_of_the_process_is_scrubbed(caplog: pytest.LogCaptureFixture) -> None:
    from mesoguide import logsafe

    logsafe.install(rasa=False)
    with caplog.at_level(logging.INFO):
        logging.getLogger("some.library").info("message from %s", "rest:+447700900123")
    assert "+447700900123" not in caplog.text and hashed("rest:+447700900123") in caplog.text


def test_backoff_doubles_and_resets_after_a_stable_run() -> None:
    backoff = Backoff(first_s=1, max_s=8, stable_s=60)
    backoff.started("actions", 0)
    assert [backoff.next_delay("actions", t) for t in (1, 2, 3, 4, 5)] == [1, 2, 4, 8, 8]
    backoff.started("actions", 10)
    assert backoff.next_delay("actions", 100) == 1, "ran a minute without exiting: back to the first delay"


def test_runtime_texts_are_loaded_and_name_the_emergency_number(kb: KnowledgeBase) -> None:
    for key in ("unavailable", "too_long", "slow_down"):
        text = kb.render(kb.messages.runtime[key])
        assert kb.clinic.emergency_number in text
    assert kb.clinic.phone in kb.render(kb.messages.runtime["unavailable"])
