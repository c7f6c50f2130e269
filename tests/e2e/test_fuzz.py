"""Generated inputs at every public entry point of the running servers: REST, socket.io (the
widget), Telegram (with the right secret) and Twilio (with valid signatures).

For each entry point, at least 1,000 inputs, about half of them well formed: random Unicode (control characters, right-to-left
marks, lone surrogates, emoji), very long texts, empty and blank messages, intent-syntax
injections, and malformed bodies (wrong JSON types, missing fields, not JSON). The counts are
printed. What must hold: no 5xx answer, a reply to every message that was accepted (never
silence), and no server process gone. Inputs come from a seeded generator: the same inputs on
every run.
"""

from __future__ import annotations

import asyncio
import json
import random
import string
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import socketio
from twilio.request_validator import RequestValidator

from mesoguide.client import LiveAssistant
from mesoguide.stack import Stack
from tests.e2e.channel_clients import post as _post
from tests.e2e.fake_providers import TELEGRAM_SECRET, TWILIO_AUTH_TOKEN, TWILIO_NUMBER, TWILIO_WEBHOOK_URL, FakeProviders

pytestmark = pytest.mark.e2e

INPUTS_PER_ENTRY_POINT = 1000
SEED = 20261124
WORDS = ("pus", "fever", "warfarin", "pregnant", "does it hurt", "how many sessions", "cost", "botox", "hair", "face")


def random_text(rng: random.Random) -> str:
    """A patient message as a fuzzer writes it."""
    kind = rng.randrange(9)
    if kind == 0:
        return "".join(chr(rng.randrange(0x20, 0x2FFF)) for _ in range(rng.randrange(1, 200)))
    if kind == 1:
        return "".join(chr(rng.randrange(0, 32)) for _ in range(rng.randrange(1, 40)))
    if kind == 2:
        return "\u202e" + rng.choice(WORDS) + "\u200b\u00ad" + "\ud800" * rng.randrange(0, 2)
    if kind == 3:
        return (rng.choice(WORDS) + " ") * rng.randrange(500, 3000)
    if kind == 4:
        return rng.choice(["", " ", "\n\n", "\t", "?", "..."])
    if kind == 5:
        return rng.choice(["/restart", "/ask_pain", '/inform_area{"treatment_area": "face"}', "/affirm", "/nonexistent{{"])
    if kind == 6:
        return "😀🩸💉" * rng.randrange(1, 50) + rng.choice(WORDS)
    if kind == 7:
        return "".join(rng.choice(string.printable) for _ in range(rng.randrange(1, 300)))
    return " ".join(rng.choice(WORDS) for _ in range(rng.randrange(1, 12)))


def _encodable(text: str) -> str:
    """Text that survives UTF-8 (lone surrogates only travel inside JSON escapes)."""
    return text.encode("utf-8", "replace").decode("utf-8")


def _report(name: str, counts: Counter) -> None:
    print(f"\nfuzz {name}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))


def _no_process_gone(stack: Stack) -> None:
    assert stack.exited() is None, f"the {stack.exited()} server is gone"


def _parallel(jobs: list[Callable[[], str]]) -> Counter:
    with ThreadPoolExecutor(max_workers=4) as pool:
        return Counter(pool.map(lambda job: job(), jobs))


def _check_webhook_run(
    name: str, counts: Counter, providers: FakeProviders, provider: str, recipients: list[str], stack: Stack
) -> None:
    """A webhook run's verdict: every accepted message got a reply through the provider's API,
    no 5xx, no process gone; the counts are printed."""
    silent = [r for r in recipients if not providers.wait_for(lambda r=r: bool(providers.sent_to(provider, r)), 60)]
    counts["replied"] = len(recipients) - len(silent)
    counts["silent"] = len(silent)
    _report(name, counts)
    assert sum(v for k, v in counts.items() if k.startswith("HTTP") or k == "5xx") >= INPUTS_PER_ENTRY_POINT
    assert counts["5xx"] == 0 and not silent, (counts, silent[:5])
    _no_process_gone(stack)


# --- REST ---------------------------------------------------------------------------------


def rest_bodies(rng: random.Random) -> Iterator[tuple[bytes, bool]]:
    """(body, well formed) pairs."""
    for i in range(INPUTS_PER_ENTRY_POINT):
        kind = rng.randrange(10)
        if kind < 4:
            yield json.dumps({"sender": f"fuzz-rest-{i}", "message": random_text(rng)}).encode(), True
        elif kind in (4, 5):
            yield json.dumps({"sender": f"fuzz-rest-{i}", "message": rng.choice([5, None, [], {}, True, 1.5])}).encode(), False
        elif kind in (6, 7):
            body = rng.choice([[1, 2], "text", 3, None, {"message": "hi"}, {"sender": "", "message": "x"}])
            yield json.dumps(body).encode(), False
        elif kind == 8:
            yield bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300))), False
        else:
            yield b'{"sender": "fuzz", "message": "unterminated', False


def test_rest_fuzz(live: LiveAssistant, live_stack: Stack) -> None:
    rng = random.Random(SEED)
    url = live.config.rasa_url + "/webhooks/rest/webhook"

    def job(body: bytes, well_formed: bool) -> Callable[[], str]:
        def run() -> str:
            status = _post_read(url, body)
            if status[0] >= 500:
                return "5xx"
            if well_formed:
                replies = json.loads(status[1]) if status[0] == 200 else []
                return "answered" if status[0] == 200 and replies else f"empty ({status[0]})"
            return "refused 400" if status[0] == 400 else f"malformed got {status[0]}"
        return run

    counts = _parallel([job(b, ok) for b, ok in rest_bodies(rng)])
    _report("REST", counts)
    assert sum(counts.values()) >= INPUTS_PER_ENTRY_POINT
    assert set(counts) <= {"answered", "refused 400"}, counts
    _no_process_gone(live_stack)


def _post_read(url: str, body: bytes) -> tuple[int, bytes]:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


# --- Telegram ------------------------------------------------------------------------------


def telegram_updates(rng: random.Random) -> Iterator[tuple[dict[str, Any] | bytes, int | None]]:
    """(update, chat id that must get a reply or None)."""
    for i in range(INPUTS_PER_ENTRY_POINT):
        chat = 7_000_000_000 + i
        message = {"message_id": i + 1, "from": {"id": chat, "is_bot": False, "first_name": "F"},
                   "chat": {"id": chat, "type": "private"}, "date": int(time.time())}
        kind = rng.randrange(10)
        if kind < 4:
            text = _encodable(random_text(rng))[:4096]
            yield {"update_id": i, "message": {**message, "text": text}}, chat
        elif kind == 4:
            yield {"update_id": i, "message": {**message, "sticker": {"file_id": "x"}}}, chat
        elif kind in (5, 6, 7):
            yield {"update_id": i, "message": {**message, "text": rng.choice([5, None, [], {}])}}, None
        elif kind == 8:
            yield rng.choice([{"update_id": "x"}, {}, [], {"update_id": i, "edited_message": {**message, "text": "hi"}}]), None
        else:
            yield bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200))), None


def test_telegram_fuzz(live: LiveAssistant, live_stack: Stack, providers: FakeProviders) -> None:
    rng = random.Random(SEED)
    url = live.config.rasa_url + "/webhooks/telegram/webhook"
    headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
    expect_reply: list[int] = []

    def job(update: dict[str, Any] | bytes, chat: int | None) -> Callable[[], str]:
        body = update if isinstance(update, bytes) else json.dumps(update).encode()

        def run() -> str:
            status = _post(url, body, headers)
            if status >= 500:
                return "5xx"
            if chat is not None and status == 200:
                expect_reply.append(chat)
            return f"HTTP {status}"
        return run

    counts = _parallel([job(u, c) for u, c in telegram_updates(rng)])
    _check_webhook_run("Telegram", counts, providers, "telegram", [str(c) for c in expect_reply], live_stack)


# --- Twilio --------------------------------------------------------------------------------


def twilio_forms(rng: random.Random) -> Iterator[tuple[dict[str, str], str | None]]:
    """(signed form fields, phone that must get a reply or None)."""
    for i in range(INPUTS_PER_ENTRY_POINT):
        phone = f"+1555{i:07d}"
        base = {"MessageSid": f"SM{i:032x}", "AccountSid": "AC" + "0" * 32, "To": TWILIO_NUMBER, "From": phone}
        kind = rng.randrange(10)
        if kind < 4:
            yield {**base, "Body": _encodable(random_text(rng))[:1600]}, phone
        elif kind == 4:
            yield {**base, "NumMedia": "1", "Body": ""}, phone
        elif kind in (5, 6):
            yield {k: v for k, v in base.items() if k != "From"} | {"Body": "hi"}, None
        else:
            yield {**base, "From": "", "Body": _encodable(random_text(rng))[:100]}, None


def test_twilio_fuzz(live: LiveAssistant, live_stack: Stack, providers: FakeProviders) -> None:
    rng = random.Random(SEED)
    url = live.config.rasa_url + "/webhooks/twilio/webhook"
    validator = RequestValidator(TWILIO_AUTH_TOKEN)
    expect_reply: list[str] = []

    def job(fields: dict[str, str], phone: str | None) -> Callable[[], str]:
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "X-Twilio-Signature": validator.compute_signature(TWILIO_WEBHOOK_URL, fields)}

        def run() -> str:
            status = _post(url, urllib.parse.urlencode(fields).encode(), headers)
            if status >= 500:
                return "5xx"
            if phone is not None and status < 300:
                expect_reply.append(phone)
            return f"HTTP {status}"
        return run

    counts = _parallel([job(f, p) for f, p in twilio_forms(rng)])
    _check_webhook_run("Twilio", counts, providers, "twilio", expect_reply, live_stack)


# --- socket.io (the widget) ----------------------------------------------------------------


def socket_payloads(rng: random.Random) -> Iterator[tuple[Any, bool]]:
    """(user_uttered payload, must get a reply)."""
    for _ in range(INPUTS_PER_ENTRY_POINT):
        kind = rng.randrange(10)
        if kind < 4:
            yield {"message": _encodable(random_text(rng))[:5000]}, True
        elif kind in (4, 5):
            yield {"message": rng.choice([5, None, [], {}]), "session_id": "someone-else-123"}, True
        else:
            yield rng.choice(["text", 5, None, [1, 2]]), False


async def _socket_fuzz(url: str, payloads: list[tuple[Any, bool]], sockets: int = 8) -> Counter:
    counts: Counter = Counter()
    chunks = [payloads[i::sockets] for i in range(sockets)]

    async def one_socket(mine: list[tuple[Any, bool]]) -> None:
        client = socketio.AsyncClient(reconnection=False)
        replies: asyncio.Queue = asyncio.Queue()
        confirmed: asyncio.Queue = asyncio.Queue()
        client.on("bot_uttered", lambda data: replies.put_nowait(data))
        client.on("session_confirm", lambda data: confirmed.put_nowait(data))
        # Long-polling: the websocket transport of this python-socketio needs a newer aiohttp.
        await client.connect(url, socketio_path="/socket.io", transports=["polling"])
        await client.emit("session_request", {"session_id": None})
        await asyncio.wait_for(confirmed.get(), 30)
        await asyncio.sleep(1.0)
        while not replies.empty():  # the disclaimer at session start
            replies.get_nowait()
        for payload, must_reply in mine:
            await client.emit("user_uttered", payload)
            if not must_reply:
                counts["ignored malformed"] += 1
                continue
            try:
                await asyncio.wait_for(replies.get(), 30)
                counts["answered"] += 1
            except asyncio.TimeoutError:
                counts["silent"] += 1
            await asyncio.sleep(0.05)  # the rest of a multi-part reply
            while not replies.empty():
                replies.get_nowait()
        counts["sockets still connected"] += int(client.connected)
        await client.disconnect()

    await asyncio.gather(*(one_socket(c) for c in chunks))
    return counts


def test_socketio_fuzz(live: LiveAssistant, live_stack: Stack) -> None:
    rng = random.Random(SEED)
    # Each socket is one conversation typing faster than a person: past its burst the replies
    # are the "slow down" text. That is a reply too; silence is what must never happen.
    counts = asyncio.run(_socket_fuzz(live.config.rasa_url, list(socket_payloads(rng))))
    _report("socket.io", counts)
    assert counts["answered"] + counts["silent"] + counts["ignored malformed"] >= INPUTS_PER_ENTRY_POINT
    assert counts["silent"] == 0, counts
    assert counts["sockets still connected"] == 8
    _no_process_gone(live_stack)
