"""``make bench-compare``: the stock ``rasa init`` bot, MesoGuide's default profile and its
production profile, one after the other in one run, under the same load.

For each system: start it, time the first reply after it reports ready, then drive its REST
channel (20 and 50 conversations in flight x 10 turns, and 100-turn conversations one at a
time) and read msg/s, p50/p95/p99, per-turn p50 at turns 1/50/100, resident memory and CPU
milliseconds per message of each process. Prints a table, the ratios to the stock bot and the
targets, and as its last line one JSON object with every figure.

The machine is shared: only figures of one run are compared with each other. Every load loop
is bounded (message count and a deadline) and stays on loopback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mesoguide.bench import MESSAGES
from mesoguide.paths import REPO_ROOT
from mesoguide.perf.load import LoadResult, Target, load
from mesoguide.perf.procstat import cpu_seconds, rss_mb
from mesoguide.perf.stock import STOCK_MESSAGES, StockBot
from mesoguide.runtime import LOAD_TEST

TURNS = (1, 50, 100)
#: The targets of the production profile against the stock bot (docs/performance.md).
TARGETS = {
    "throughput_ratio_20": (">=", 2.0),
    "p95_ratio_20": ("<=", 0.5),
    "turn100_over_turn1": ("<=", 1.2),
    "first_reply_ms": ("<", 150.0),
}


@dataclass
class Figures:
    """What one system measured."""

    name: str
    startup_s: float = 0.0
    first_reply_ms: float = 0.0
    loads: dict[str, dict[str, float]] = field(default_factory=dict)
    per_turn_p50_ms: dict[int, float] = field(default_factory=dict)
    rss_mb: dict[str, float] = field(default_factory=dict)
    cpu_ms_per_msg: dict[str, float] = field(default_factory=dict)
    action_server_tensorflow: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "startup_s": round(self.startup_s, 1),
            "first_reply_ms": round(self.first_reply_ms, 1),
            "loads": {k: {m: round(v, 1) for m, v in d.items()} for k, d in self.loads.items()},
            "per_turn_p50_ms": {str(k): round(v, 1) for k, v in self.per_turn_p50_ms.items()},
            "rss_mb": {k: round(v) for k, v in self.rss_mb.items()},
            "cpu_ms_per_msg": {k: round(v, 1) for k, v in self.cpu_ms_per_msg.items()},
            "action_server_tensorflow": self.action_server_tensorflow,
        }


@dataclass
class Plan:
    """How much load (bounded)."""

    conversations_20: int = 60
    conversations_50: int = 100
    turns: int = 10
    long_turns: int = 100
    long_conversations: int = 2
    max_seconds: float = 240.0


def _tensorflow_loaded(pid: int) -> bool:
    """Whether a process has TensorFlow's library mapped."""
    try:
        return "libtensorflow" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


def measure(
    name: str, target: Target, messages: tuple[str, ...], pids: Callable[[], dict[str, int]], plan: Plan, startup_s: float
) -> Figures:
    """Drive one running system and read its figures."""
    figures = Figures(name=name, startup_s=startup_s)
    first = load(target, messages, conversations=1, turns=1, concurrency=1, prefix=f"{name}-first")
    figures.first_reply_ms = first.replies[0].seconds * 1000 if first.ok else float("nan")
    load(target, messages, conversations=6, turns=3, concurrency=6, prefix=f"{name}-warm")  # connections, caches
    runs = {"20": (plan.conversations_20, 20), "50": (plan.conversations_50, 50)}
    for label, (conversations, concurrency) in runs.items():
        before = {n: cpu_seconds(p) for n, p in pids().items()}
        result = load(
            target,
            messages,
            conversations=conversations,
            turns=plan.turns,
            concurrency=concurrency,
            prefix=f"{name}-c{label}",
            max_seconds=plan.max_seconds,
        )
        figures.loads[label] = result.summary()
        if label == "20":
            sent = max(1, len(result.replies))
            figures.cpu_ms_per_msg = {n: (cpu_seconds(p) - before.get(n, 0.0)) * 1000 / sent for n, p in pids().items()}
            figures.cpu_ms_per_msg["total"] = sum(figures.cpu_ms_per_msg.values())
    long = LoadResult([], 0.0)
    for _ in range(plan.long_conversations):
        run = load(
            target,
            messages,
            conversations=1,
            turns=plan.long_turns,
            concurrency=1,
            prefix=f"{name}-long",
            max_seconds=plan.max_seconds,
        )
        long = LoadResult(long.replies + run.replies, long.wall_s + run.wall_s)
    figures.per_turn_p50_ms = {t: long.per_turn_p50_ms(t) for t in TURNS if t <= plan.long_turns}
    figures.loads["long"] = long.summary()
    figures.rss_mb = {n: rss_mb(p) for n, p in pids().items()}
    action_pids = [p for n, p in pids().items() if n.startswith("actions")]
    figures.action_server_tensorflow = any(_tensorflow_loaded(p) for p in action_pids) if action_pids else None
    return figures


@contextlib.contextmanager
def _stock(port: int) -> Iterator[tuple[Target, Callable[[], dict[str, int]], float]]:
    started = time.monotonic()
    with StockBot(port=port) as bot:
        assert bot.proc is not None
        pid = bot.proc.pid
        yield Target(bot.url), lambda: {"rasa": pid}, time.monotonic() - started


@contextlib.contextmanager
def _default(directory: Path) -> Iterator[tuple[Target, Callable[[], dict[str, int]], float]]:
    from mesoguide.stack import Stack, isolated_config

    stack = Stack(isolated_config(directory, env=LOAD_TEST))
    started = time.monotonic()
    stack.start()
    try:
        stack.wait_ready()
        yield Target(stack.config.rasa_url), stack.pids, time.monotonic() - started
    finally:
        stack.stop()


@contextlib.contextmanager
def _production(directory: Path) -> Iterator[tuple[Target, Callable[[], dict[str, int]], float]]:
    from mesoguide.production.config import load_config
    from mesoguide.production.services import quiet_port
    from mesoguide.production.supervisor import ProductionStack

    # The benchmark drives REST from one address: REST on, the per-address limit out of the way.
    config = load_config().with_overrides(
        data_dir=str(directory),
        rest_channel=True,
        rate_limit_per_ip=100000,
        rate_limit_burst=100000,
        public_port=quiet_port(),
        dashboard_port=quiet_port(),
    )
    stack = ProductionStack(config, extra_env=LOAD_TEST, on_event=lambda line: print(f"  [supervisor] {line}", flush=True))
    seconds = stack.start()
    try:
        assert stack.runtime is not None
        yield Target(stack.public_url, cafile=stack.runtime.tls_certificate, rest_token=stack.secrets["rest_token"]), stack.pids, seconds
    finally:
        stack.stop()


def ratios(stock: Figures, other: Figures) -> dict[str, float]:
    """Figures of ``other`` over the stock bot's (and turn 100 over turn 1 of its own)."""
    out = {}
    for label in ("20", "50"):
        out[f"throughput_ratio_{label}"] = other.loads[label]["msg_per_s"] / stock.loads[label]["msg_per_s"]
        for q in ("p50", "p95", "p99"):
            out[f"{q}_ratio_{label}"] = other.loads[label][f"{q}_ms"] / stock.loads[label][f"{q}_ms"]
    out["turn100_over_turn1"] = other.per_turn_p50_ms.get(100, float("nan")) / other.per_turn_p50_ms[1]
    out["first_reply_ms"] = other.first_reply_ms
    return out


def _met(name: str, value: float) -> str:
    op, bound = TARGETS[name]
    ok = value >= bound if op == ">=" else value <= bound if op == "<=" else value < bound
    return f"{'met' if ok else 'NOT met'} ({op} {bound:g})"


def _load_figure(label: str, key: str) -> Callable[[Figures], float]:
    return lambda figures: figures.loads[label][key]


def _turn_figure(turn: int) -> Callable[[Figures], float]:
    return lambda figures: figures.per_turn_p50_ms.get(turn, float("nan"))


def report(results: dict[str, Figures]) -> dict[str, Any]:
    """Print the table and return the JSON summary."""
    print("\n=== bench-compare (one run, same machine, same load; compare only within this run) ===")
    header = f"{'':28}" + "".join(f"{name:>16}" for name in results)
    print(header)
    rows: list[tuple[str, Callable[[Figures], float]]] = [
        ("start-up s", lambda f: f.startup_s),
        ("first reply after ready ms", lambda f: f.first_reply_ms),
    ]
    for label in ("20", "50"):
        rows += [
            (f"msg/s @{label}", _load_figure(label, "msg_per_s")),
            (f"p50 ms @{label}", _load_figure(label, "p50_ms")),
            (f"p95 ms @{label}", _load_figure(label, "p95_ms")),
            (f"p99 ms @{label}", _load_figure(label, "p99_ms")),
            (f"failed @{label}", _load_figure(label, "failed")),
        ]
    rows += [(f"turn {t} p50 ms", _turn_figure(t)) for t in TURNS]
    rows += [
        ("CPU ms/msg @20 (all procs)", lambda f: f.cpu_ms_per_msg.get("total", float("nan"))),
        ("RSS MB (all procs)", lambda f: sum(f.rss_mb.values())),
    ]
    for title, get in rows:
        print(f"{title:28}" + "".join(f"{get(f):16.1f}" for f in results.values()))
    for name, figures in results.items():
        print(
            f"{name}: RSS MB "
            + ", ".join(f"{k} {v:.0f}" for k, v in figures.rss_mb.items())
            + (
                ""
                if figures.action_server_tensorflow is None
                else f"; TensorFlow in the action server: {'yes' if figures.action_server_tensorflow else 'no'}"
            )
        )
    summary: dict[str, Any] = {name: f.as_dict() for name, f in results.items()}
    stock = results.get("stock")
    if stock is not None:
        for name, figures in results.items():
            if name == "stock":
                continue
            r = ratios(stock, figures)
            summary[f"{name}_ratios"] = {k: round(v, 3) for k, v in r.items()}
            print(f"\n{name} vs stock: " + ", ".join(f"{k} {v:.2f}" for k, v in r.items()))
        if "production" in results:
            r = ratios(stock, results["production"])
            print("targets (production vs stock):")
            for key in TARGETS:
                print(f"  {key:22} {r[key]:8.2f}  {_met(key, r[key])}")
            tf = results["production"].action_server_tensorflow
            print(f"  {'action server w/o TF':22} {'met' if tf is False else 'NOT met'}")
            summary.update({k: round(v, 3) for k, v in r.items()})
            summary["action_server_tensorflow"] = tf
    return summary


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    parser = argparse.ArgumentParser(prog="python -m mesoguide.perf.compare", description=__doc__.split("\n")[0])
    parser.add_argument("--systems", default="stock,default,production", help="comma-separated, in this order")
    parser.add_argument("--quick", action="store_true", help="a smaller load (a smoke run, not for figures)")
    args = parser.parse_args(argv)
    plan = Plan(conversations_20=20, conversations_50=50, long_turns=30, long_conversations=1) if args.quick else Plan()
    results: dict[str, Figures] = {}
    from mesoguide.production.services import quiet_port

    (REPO_ROOT / "build").mkdir(exist_ok=True)  # a fresh checkout has no build/ yet
    for name in args.systems.split(","):
        print(f"--- {name}: starting ...", flush=True)
        with tempfile.TemporaryDirectory(prefix=f"bench-{name}-", dir=REPO_ROOT / "build") as tmp:
            if name == "stock":
                system = _stock(quiet_port())
                messages = STOCK_MESSAGES
            elif name == "default":
                system, messages = _default(Path(tmp)), MESSAGES
            elif name == "production":
                Path(tmp).chmod(0o755)  # PostgreSQL runs as its own user inside it
                system, messages = _production(Path(tmp)), MESSAGES
            else:
                parser.error(f"unknown system {name!r}")
            with system as (target, pids, startup):
                print(f"--- {name}: ready in {startup:.0f} s; measuring ...", flush=True)
                results[name] = measure(name, target, messages, pids, plan, startup)
            print(f"--- {name}: {json.dumps(results[name].as_dict(), sort_keys=True)}", flush=True)
    summary = report(results)
    print(json.dumps(summary, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
