"""``make chaos``: the production profile under faults, with conversations in flight.

Starts the production profile (REST on, through nginx and TLS), keeps ``--conversations``
patients chatting, and meanwhile: ``kill -9`` one Rasa server, ``kill -9`` one action-server
worker, restarts PostgreSQL, and stops Redis for 10 s. A patient who gets nginx's "please try
again" (or no answer at all) sends the same message again after a second, as a person would,
up to ``RESENDS`` times.

Then it checks, and prints:

* messages lost: a patient message that never got a reply (not even "please try again");
* messages that got only "please try again" after every resend (counted, not lost);
* duplicate replies: a patient message the assistant processed twice (its user turn appears
  twice in the tracker: a resend of a message that had been processed after all);
* escalation records lost: a conversation that was told it was escalated, with no record in
  the escalation database (spooled records are stored by the supervisor): must be 0;
* interleaved turns: in every conversation's tracker, each user message is followed by its own
  actions and ``action_listen`` before the next user message; and, once the faults are over,
  two messages of one conversation sent at the same moment (to different Rasa servers) must
  come out one after the other;
* time to recover from each fault: the longest time no patient got a real reply after it, and
  the time until the killed or stopped process answered again.

Exit code 1 when a message was lost, an escalation record was lost, turns interleaved, or
the profile did not recover. Every loop is bounded; all traffic stays on loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import signal
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from mesoguide.conversation_ids import conversation_id
from mesoguide.paths import REPO_ROOT
from mesoguide.perf.load import Reply, Target, _session, send
from mesoguide.production.supervisor import ProductionStack
from mesoguide.reply_meta import meta_of
from mesoguide.runtime import LOAD_TEST

#: One patient's messages, cycled: questions, an area follow-up, escalations, smalltalk.
CHAOS_MESSAGES = (
    "hi",
    "does mesotherapy hurt?",
    "I'm on warfarin, is that a problem?",
    "how many sessions for hair?",
    "and for the face?",
    "I want to talk to a person",
    "how long is the downtime",
    "thanks!",
)
RESENDS = 5
RESEND_AFTER_S = 1.0
MAX_TURNS = 300
READ_PAUSE_S = 0.3  # a patient reads the reply before typing again; 20 of them keep both Rasa servers busy
REDIS_STOP_S = 10.0


@dataclass
class Message:
    """One patient message and every attempt to send it."""

    sender: str
    turn: int
    text: str
    attempts: list[Reply] = field(default_factory=list)

    @property
    def answered(self) -> Reply | None:
        """The attempt that got a real reply (HTTP 200 with messages)."""
        return next((a for a in self.attempts if a.ok), None)

    @property
    def told_to_try_again(self) -> bool:
        """Some attempt got nginx's "please try again"."""
        return any(a.status in (429, 503) and a.replies for a in self.attempts)


@dataclass
class Fault:
    """One fault and how the profile came back from it."""

    name: str
    at: float
    process_back_s: float = float("nan")
    reply_gap_s: float = float("nan")


class Patients:
    """Keeps ``count`` conversations going until :meth:`stop`; every message recorded."""

    def __init__(self, target: Target, count: int) -> None:
        self.target = target
        self.count = count
        self.messages: list[Message] = []
        self._stop = asyncio.Event()

    def stop(self) -> None:
        """Let each conversation finish its current message and end."""
        self._stop.set()

    async def run(self) -> None:
        """Run the conversations (bounded by ``MAX_TURNS`` each)."""
        async with _session(self.target, self.count + 4) as session:
            await asyncio.gather(*(self._patient(session, f"chaos-{uuid.uuid4().hex[:10]}") for _ in range(self.count)))

    async def _patient(self, session: aiohttp.ClientSession, sender: str) -> None:
        for turn in range(1, MAX_TURNS + 1):
            if self._stop.is_set():
                return
            message = Message(sender, turn, CHAOS_MESSAGES[(turn - 1) % len(CHAOS_MESSAGES)])
            self.messages.append(message)
            for _ in range(1 + RESENDS):
                attempt = await send(session, self.target, sender, turn, message.text)
                message.attempts.append(attempt)
                if attempt.ok and not _is_try_again(attempt):
                    break
                await asyncio.sleep(RESEND_AFTER_S)
            await asyncio.sleep(READ_PAUSE_S)

    def last_real_reply(self) -> float:
        """``time.monotonic()``-based time of the latest real reply (0 if none)."""
        return max((a.finished for m in self.messages for a in m.attempts if a.ok and not _is_try_again(a)), default=0.0)


def _is_try_again(reply: Reply) -> bool:
    return reply.status in (429, 503)


def _reply_times(patients: Patients) -> list[float]:
    return sorted(a.finished for m in patients.messages for a in m.attempts if a.ok and not _is_try_again(a))


def _gap_after(times: list[float], start: float, window_end: float) -> float:
    """Longest stretch without a real reply between ``start`` and ``window_end``."""
    points = [start, *[t for t in times if start <= t <= window_end], window_end]
    return max(b - a for a, b in zip(points, points[1:], strict=False)) if len(points) > 1 else float("nan")


async def _wait_back(check: Any, timeout: float = 120.0) -> float:
    started = time.monotonic()
    while not await asyncio.get_running_loop().run_in_executor(None, check):
        if time.monotonic() - started > timeout:
            return float("inf")
        await asyncio.sleep(0.25)
    return time.monotonic() - started


async def inject_faults(stack: ProductionStack, log: Any) -> list[Fault]:
    """The four faults, one after the other, each once the previous one has recovered."""
    sup = stack.supervisor
    assert sup is not None
    faults: list[Fault] = []
    loop = asyncio.get_running_loop()

    async def kill(name: str) -> None:
        fault = Fault(f"kill -9 {name}", time.monotonic())
        os.kill(sup.pid(name), signal.SIGKILL)
        log(f"{fault.name}")
        await asyncio.sleep(1.5)  # the supervisor notices and waits its 1 s back-off
        ready = sup.specs[name].ready
        fault.process_back_s = (
            time.monotonic() - fault.at + await _wait_back(lambda: sup.running(name) and bool(ready and ready()))
        )
        faults.append(fault)

    await asyncio.sleep(5)
    await kill("rasa-1")
    await asyncio.sleep(3)
    await kill("actions-1")
    await asyncio.sleep(3)
    fault = Fault("restart PostgreSQL", time.monotonic())
    log(fault.name)
    await loop.run_in_executor(None, sup.hold, "postgres")
    await loop.run_in_executor(None, sup.release, "postgres")
    assert stack._postgres is not None
    fault.process_back_s = time.monotonic() - fault.at + await _wait_back(stack._postgres.answers)
    faults.append(fault)
    await asyncio.sleep(3)
    fault = Fault(f"stop Redis for {REDIS_STOP_S:.0f} s", time.monotonic())
    log(fault.name)
    await loop.run_in_executor(None, sup.hold, "redis")
    await asyncio.sleep(REDIS_STOP_S)
    await loop.run_in_executor(None, sup.release, "redis")
    assert stack._redis is not None
    fault.process_back_s = time.monotonic() - fault.at + await _wait_back(stack._redis.answers)
    faults.append(fault)
    await asyncio.sleep(8)  # the conversations go on after the last fault
    return faults


# --- checks against the trackers and the escalation database ---------------------------------


def tracker(stack: ProductionStack, sender: str) -> dict[str, Any]:
    """A conversation's tracker, from a Rasa server's API on loopback (never through nginx)."""
    rt = stack.runtime
    assert rt is not None
    query = urllib.parse.urlencode({"token": rt.api_token})
    # REST conversations are namespaced (mesoguide.conversation_ids); Sanic does not decode ":".
    conversation = urllib.parse.quote(conversation_id("rest", sender), safe=":")
    url = f"http://127.0.0.1:{rt.rasa_ports[-1]}/conversations/{conversation}/tracker?{query}"
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def tracker_events(stack: ProductionStack, sender: str) -> list[dict[str, Any]]:
    """The events of a conversation's tracker."""
    return tracker(stack, sender)["events"]


def turns_in_order(events: list[dict[str, Any]]) -> bool:
    """Each user message is followed by its own actions and ``action_listen`` before the next."""
    waiting_for_listen = False
    for event in events:
        if event.get("event") == "user":
            if waiting_for_listen:
                return False
            waiting_for_listen = True
        elif event.get("event") == "action" and event.get("name") == "action_listen":
            waiting_for_listen = False
    return True


def duplicate_turns(messages: list[Message], events: list[dict[str, Any]]) -> int:
    """User turns in the tracker beyond one per message the patient sent."""
    sent = len(messages)
    seen = sum(1 for e in events if e.get("event") == "user")
    return max(0, seen - sent)


def escalated(message: Message) -> bool:
    """The real reply to this message said it was escalated."""
    reply = message.answered
    if reply is None or _is_try_again(reply):
        return False
    metas = [meta_of(item) for item in reply.replies]
    return any(meta is not None and str(meta.get("outcome", "")).startswith("escalate:") for meta in metas)


def escalation_conversations(url: str) -> set[str]:
    """Conversation ids that have an escalation record."""
    import sqlalchemy as sa

    from mesoguide.escalations import models as m
    from mesoguide.escalations.store import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {row[0] for row in conn.execute(sa.select(m.escalations.c.conversation_id))}
    finally:
        engine.dispose()


async def simultaneous_pairs(target: Target, stack: ProductionStack, pairs: int) -> int:
    """Send two messages of one conversation at the same moment, ``pairs`` times; returns how
    many conversations came out interleaved."""
    bad = 0
    async with _session(target, 4) as session:
        for _ in range(pairs):
            sender = f"pair-{uuid.uuid4().hex[:10]}"
            await send(session, target, sender, 1, "hi")
            await asyncio.gather(
                send(session, target, sender, 2, "does it hurt?"),
                send(session, target, sender, 3, "how long is the downtime"),
            )
            events = await asyncio.get_running_loop().run_in_executor(None, functools.partial(tracker_events, stack, sender))
            users = [e for e in events if e.get("event") == "user"]
            if len(users) != 3 or not turns_in_order(events):
                bad += 1
    return bad


async def run_chaos(stack: ProductionStack, target: Target, conversations: int) -> dict[str, Any]:
    """Faults with patients in flight; returns the figures."""
    started = time.monotonic()
    patients = Patients(target, conversations)
    load = asyncio.ensure_future(patients.run())
    try:
        faults = await inject_faults(stack, lambda line: print(f"  fault: {line}", flush=True))
    finally:
        patients.stop()
        await asyncio.wait_for(load, timeout=120)
    times = _reply_times(patients)
    for index, fault in enumerate(faults):
        end = faults[index + 1].at if index + 1 < len(faults) else max(times, default=fault.at)
        fault.reply_gap_s = _gap_after(times, fault.at, end)
    # Spooled escalations (database away) are stored by the supervisor's drain; run it now.
    await asyncio.get_running_loop().run_in_executor(None, stack.drain_spool)
    by_sender: dict[str, list[Message]] = {}
    for message in patients.messages:
        by_sender.setdefault(message.sender, []).append(message)
    lost = [m for m in patients.messages if not m.attempts or all(not a.replies for a in m.attempts)]
    only_try_again = [m for m in patients.messages if m not in lost and (m.answered is None or _is_try_again(m.answered))]
    duplicates = interleaved = 0
    for sender, messages in by_sender.items():
        events = await asyncio.get_running_loop().run_in_executor(None, functools.partial(tracker_events, stack, sender))
        duplicates += duplicate_turns(messages, events)
        interleaved += 0 if turns_in_order(events) else 1
    recorded = escalation_conversations(stack.escalation_url)
    # Records name the conversation by its namespaced id (mesoguide.conversation_ids).
    told = {conversation_id("rest", m.sender) for m in patients.messages if escalated(m)}
    pairs_interleaved = await simultaneous_pairs(target, stack, pairs=5)
    return {
        "conversations": conversations,
        "messages": len(patients.messages),
        "attempts": sum(len(m.attempts) for m in patients.messages),
        "messages_lost": len(lost),
        "messages_only_try_again": len(only_try_again),
        "attempts_silent": sum(1 for m in patients.messages for a in m.attempts if a.status == 200 and not a.replies),
        "attempts_without_http_answer": sum(1 for m in patients.messages for a in m.attempts if a.status == 0),
        "attempts_http_error": sum(1 for m in patients.messages for a in m.attempts if a.status not in (0, 200)),
        "messages_told_try_again_then_answered": sum(
            1 for m in patients.messages if m.told_to_try_again and m.answered is not None and not _is_try_again(m.answered)
        ),
        "duplicate_replies": duplicates,
        "escalated_conversations": len(told),
        "escalation_records_lost": len(told - recorded),
        "conversations_interleaved": interleaved,
        "simultaneous_pairs_interleaved": pairs_interleaved,
        "faults": [
            {
                "fault": f.name,
                "process_back_s": round(f.process_back_s, 1),
                "longest_gap_without_reply_s": round(f.reply_gap_s, 1),
            }
            for f in faults
        ],
        "restarts": dict(stack.supervisor.restarts) if stack.supervisor else {},
        "seconds": round(time.monotonic() - started, 1),
    }


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    from mesoguide.production.config import load_config
    from mesoguide.production.services import quiet_port

    parser = argparse.ArgumentParser(prog="python -m mesoguide.production.chaos", description=__doc__.split("\n")[0])
    parser.add_argument("--conversations", type=int, default=20)
    args = parser.parse_args(argv)
    began = time.monotonic()
    (REPO_ROOT / "build").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="chaos-", dir=REPO_ROOT / "build") as tmp:
        Path(tmp).chmod(0o755)  # PostgreSQL runs as its own user inside it
        config = load_config().with_overrides(
            data_dir=tmp,
            rest_channel=True,
            rate_limit_per_ip=100000,
            rate_limit_burst=100000,
            public_port=quiet_port(),
            dashboard_port=quiet_port(),
        )
        stack = ProductionStack(config, extra_env=LOAD_TEST, on_event=lambda line: print(f"  [supervisor] {line}", flush=True))
        print("chaos: starting the production profile ...", flush=True)
        seconds = stack.start()
        print(f"chaos: ready in {seconds:.0f} s; {args.conversations} conversations in flight, faults follow", flush=True)
        try:
            assert stack.runtime is not None
            target = Target(stack.public_url, cafile=stack.runtime.tls_certificate, rest_token=stack.secrets["rest_token"])
            figures = asyncio.run(run_chaos(stack, target, args.conversations))
        finally:
            stack.stop()
    figures["total_seconds"] = round(time.monotonic() - began, 1)
    print("\n=== chaos ===")
    for key in (
        "messages",
        "attempts",
        "attempts_silent",
        "attempts_without_http_answer",
        "attempts_http_error",
        "messages_lost",
        "messages_only_try_again",
        "messages_told_try_again_then_answered",
        "duplicate_replies",
        "escalated_conversations",
        "escalation_records_lost",
        "conversations_interleaved",
        "simultaneous_pairs_interleaved",
    ):
        print(f"  {key:40} {figures[key]}")
    for fault in figures["faults"]:
        print(
            f"  {fault['fault']:28} process back after {fault['process_back_s']:5.1f} s; "
            f"longest time without a reply {fault['longest_gap_without_reply_s']:5.1f} s"
        )
    print(f"  restarts by the supervisor: {figures['restarts']}; {figures['total_seconds']} s in all")
    print(json.dumps(figures, sort_keys=True))
    recovered = all(f["process_back_s"] != float("inf") for f in figures["faults"])
    failed = (
        figures["messages_lost"]
        or figures["escalation_records_lost"]
        or figures["conversations_interleaved"]
        or figures["simultaneous_pairs_interleaved"]
        or not recovered
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
