"""``make bench``: start-up time, per-message latency and memory of the real stack.

Prints numbers; asserts nothing (targets are read by people, not by timed unit tests).
Runs a fresh stack on free loopback ports with its own database, then:

* start-up: seconds until both servers answer;
* first message: latency of the first message after start (model warm-up);
* sequential latency: ``--conversations`` conversations of ``--turns`` turns each, one message
  at a time, median / p95 / max per message over REST (what one patient feels);
* memory: resident MB of the Rasa server and of the action server after the run.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from mesoguide.client import LiveAssistant
from mesoguide.runtime import LOAD_TEST
from mesoguide.stack import Stack, isolated_config, rss_mb
from mesoguide.stats import percentile

# A realistic mix: FAQ questions, an area follow-up, an escalation, smalltalk.
MESSAGES = (
    "hi",
    "does mesotherapy hurt?",
    "how many sessions for hair?",
    "and for the face?",
    "how long is the downtime",
    "I'm on warfarin, is that a problem?",
    "what should I avoid after a session",
    "how much does it cost",
    "thanks!",
    "what is mesotherapy exactly",
)


def run(conversations: int, turns: int) -> dict[str, float]:
    """Measure and return the numbers (milliseconds, seconds, MB)."""
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(isolated_config(Path(tmp), env=LOAD_TEST))
        started = time.monotonic()
        stack.start()
        try:
            stack.wait_ready()
            startup = time.monotonic() - started
            client = LiveAssistant(stack.config)
            first = client.say("bench-first", "hello").seconds
            latencies = []
            for _ in range(conversations):
                sender = f"bench-{uuid.uuid4().hex[:8]}"
                for text in itertools.islice(itertools.cycle(MESSAGES), turns):
                    latencies.append(client.say(sender, text).seconds)
            memory = {name: rss_mb(pid) for name, pid in stack.pids().items()}
        finally:
            stack.stop()
    ms = [x * 1000 for x in latencies]
    return {
        "startup_s": startup,
        "first_message_ms": first * 1000,
        "messages": len(ms),
        "median_ms": statistics.median(ms),
        "p95_ms": percentile(ms, 0.95),
        "max_ms": max(ms),
        "rasa_rss_mb": memory.get("rasa", 0.0),
        "actions_rss_mb": memory.get("actions", 0.0),
    }


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    parser = argparse.ArgumentParser(prog="python -m mesoguide.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--conversations", type=int, default=10)
    parser.add_argument("--turns", type=int, default=20)
    args = parser.parse_args(argv)
    numbers = run(args.conversations, args.turns)
    print(
        f"start-up (both servers answer):  {numbers['startup_s']:.1f} s\n"
        f"first message after start:       {numbers['first_message_ms']:.0f} ms\n"
        f"per message, sequential REST ({numbers['messages']} msgs, "
        f"{args.conversations} conversations x {args.turns} turns; REST round trip only):\n"
        f"  median {numbers['median_ms']:.0f} ms   p95 {numbers['p95_ms']:.0f} ms   max {numbers['max_ms']:.0f} ms\n"
        f"memory (RSS): Rasa server {numbers['rasa_rss_mb']:.0f} MB, action server {numbers['actions_rss_mb']:.0f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
