"""The production profile's Rasa stores: the Redis lock store (real redis-server on loopback)
and the SQL tracker store's cache (a real SQLite database)."""

from __future__ import annotations

import asyncio
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa.core.lock_store import LockError, LockStore
from rasa.core.tracker_store import create_tracker_store
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa.utils.endpoints import EndpointConfig

from mesoguide import constants as c
from mesoguide.paths import REPO_ROOT
from mesoguide.production.lock_store import AtomicRedisLockStore
from mesoguide.production.render import LOCK_STORE_CLASS, TRACKER_STORE_CLASS
from mesoguide.production.services import ManagedRedis, quiet_port, tool, wait_until
from mesoguide.production.tracker_store import ResilientSQLTrackerStore
from tests.support.pgtest import create_database

# --- Redis lock store ------------------------------------------------------------------------------


class RedisServer:
    def __init__(self, directory: Path) -> None:
        self.managed = ManagedRedis(directory, password="test-password", port=quiet_port())
        directory.mkdir(parents=True, exist_ok=True)
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(self.managed.spec().argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self.managed.answers, 20, "redis-server")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    try:
        tool("redis-server", "redis-server")
    except RuntimeError as exc:
        pytest.fail(str(exc))
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


def _store(server: RedisServer, **kwargs: float) -> AtomicRedisLockStore:
    return AtomicRedisLockStore(host="127.0.0.1", port=server.managed.port, password="test-password", key_prefix="test", **kwargs)


def test_rasa_builds_the_project_lock_store_from_the_endpoints(redis_server: RedisServer) -> None:
    endpoint = EndpointConfig(
        url="127.0.0.1",
        type=LOCK_STORE_CLASS,
        port=redis_server.managed.port,
        password="test-password",
        key_prefix="test",
        outage_wait_s=3,
    )
    store = LockStore.create(endpoint)
    assert isinstance(store, AtomicRedisLockStore)
    assert store.outage_wait_s == 3


def test_two_servers_never_get_the_same_ticket(redis_server: RedisServer) -> None:
    stores = [_store(redis_server), _store(redis_server)]
    tickets: list[int] = []
    guard = threading.Lock()

    def take(store: AtomicRedisLockStore) -> None:
        for _ in range(25):
            number = store.issue_ticket("conversation-1")
            with guard:
                tickets.append(number)

    threads = [threading.Thread(target=take, args=(stores[i % 2],)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(tickets) == 150 and len(set(tickets)) == 150


def test_turns_of_one_conversation_never_overlap_across_servers(redis_server: RedisServer) -> None:
    stores = [_store(redis_server), _store(redis_server)]
    inside = 0
    overlaps = 0
    order: list[int] = []

    async def turn(index: int) -> None:
        nonlocal inside, overlaps
        async with stores[index % 2].lock("conversation-2"):
            inside += 1
            overlaps += inside > 1
            await asyncio.sleep(0.02)
            order.append(index)
            inside -= 1

    async def main() -> None:
        await asyncio.gather(*(turn(i) for i in range(10)))

    asyncio.run(main())
    assert overlaps == 0 and sorted(order) == list(range(10))


def test_a_message_waits_through_a_short_redis_outage(redis_server: RedisServer) -> None:
    store = _store(redis_server, outage_wait_s=15)
    redis_server.stop()
    threading.Timer(1.5, redis_server.start).start()

    async def main() -> float:
        started = time.monotonic()
        async with store.lock("conversation-3"):
            return time.monotonic() - started

    waited = asyncio.run(main())
    assert 1.0 < waited < 15


def test_a_long_outage_refuses_the_message_instead_of_running_it_unlocked(redis_server: RedisServer) -> None:
    store = _store(redis_server, outage_wait_s=1)
    redis_server.stop()

    async def main() -> None:
        async with store.lock("conversation-4"):
            raise AssertionError("ran without the lock")

    with pytest.raises(LockError):
        asyncio.run(main())
    redis_server.start()


def test_the_ticket_of_a_killed_server_expires_quickly(redis_server: RedisServer) -> None:
    dead, alive = _store(redis_server, ticket_lifetime_s=1), _store(redis_server, ticket_lifetime_s=1)
    dead.issue_ticket("conversation-5")  # a server that took a ticket and was killed: no heartbeat

    async def main() -> float:
        started = time.monotonic()
        async with alive.lock("conversation-5"):
            return time.monotonic() - started

    assert asyncio.run(main()) < 3


def test_a_held_ticket_is_kept_alive_beyond_its_lifetime(redis_server: RedisServer) -> None:
    holder, other = _store(redis_server, ticket_lifetime_s=0.6), _store(redis_server, ticket_lifetime_s=0.6)
    events: list[str] = []

    async def slow_turn() -> None:
        async with holder.lock("conversation-6"):
            events.append("slow in")
            await asyncio.sleep(2)  # three lifetimes: only the heartbeat keeps the ticket
            events.append("slow out")

    async def next_turn() -> None:
        await asyncio.sleep(0.2)
        async with other.lock("conversation-6"):
            events.append("next in")

    async def main() -> None:
        await asyncio.gather(slow_turn(), next_turn())

    asyncio.run(main())
    assert events == ["slow in", "slow out", "next in"]


# --- SQL tracker store with the cache -----------------------------------------------------------------


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(REPO_ROOT / "domain.yml")


def _tracker_store(path: Path, domain: Domain) -> ResilientSQLTrackerStore:
    store = create_tracker_store(EndpointConfig(type=TRACKER_STORE_CLASS, dialect="sqlite", db=str(path)), domain)
    assert isinstance(store, ResilientSQLTrackerStore)  # Rasa silently falls back to memory otherwise
    return store


def _turn(tracker: DialogueStateTracker, number: int) -> None:
    for event in (
        ActionExecuted("action_listen"),
        UserUttered(f"question {number}", {"name": "ask_pain", "confidence": 0.9}),
        ActionExecuted(c.ACTION_ANSWER_TOPIC),
        BotUttered(f"answer {number}"),
        SlotSet(c.SLOT_TURN_OUTCOME, "answer:pain"),
    ):
        tracker.update(event)


def _fresh(path: Path, domain: Domain, sender: str) -> dict:
    tracker = asyncio.run(_tracker_store(path, domain).retrieve(sender))
    assert tracker is not None
    return tracker.current_state(EventVerbosity.ALL)


def test_the_cached_tracker_equals_one_read_from_the_database(tmp_path: Path, domain: Domain) -> None:
    db = tmp_path / "tracker.db"
    store = _tracker_store(db, domain)
    tracker = DialogueStateTracker.from_events("c1", [ActionExecuted("action_session_start"), SessionStarted()], domain.slots)
    asyncio.run(store.save(tracker))
    for number in range(5):
        tracker = asyncio.run(store.retrieve("c1"))
        assert tracker is not None
        _turn(tracker, number)
        asyncio.run(store.save(tracker))
    cached = asyncio.run(store.retrieve("c1"))
    assert cached is tracker  # served from the cache ...
    assert cached.current_state(EventVerbosity.ALL) == _fresh(db, domain, "c1")  # ... and the same as the database


def test_two_servers_taking_turns_see_each_others_events(tmp_path: Path, domain: Domain) -> None:
    db = tmp_path / "tracker.db"
    servers = [_tracker_store(db, domain), _tracker_store(db, domain)]
    first = DialogueStateTracker.from_events("c2", [ActionExecuted("action_session_start"), SessionStarted()], domain.slots)
    asyncio.run(servers[0].save(first))
    for number in range(6):
        store = servers[number % 2]
        tracker = asyncio.run(store.retrieve("c2"))
        assert tracker is not None
        assert sum(1 for e in tracker.events if isinstance(e, UserUttered)) == number
        _turn(tracker, number)
        asyncio.run(store.save(tracker))
    for store in servers:
        tracker = asyncio.run(store.retrieve("c2"))
        assert tracker is not None and tracker.current_state(EventVerbosity.ALL) == _fresh(db, domain, "c2")


def test_events_that_were_never_saved_are_not_served_from_the_cache(tmp_path: Path, domain: Domain) -> None:
    db = tmp_path / "tracker.db"
    store = _tracker_store(db, domain)
    tracker = DialogueStateTracker.from_events("c3", [ActionExecuted("action_session_start"), SessionStarted()], domain.slots)
    asyncio.run(store.save(tracker))
    tracker = asyncio.run(store.retrieve("c3"))
    assert tracker is not None
    _turn(tracker, 1)  # a turn that failed before it was saved
    again = asyncio.run(store.retrieve("c3"))
    assert again is not None and again is not tracker
    assert not any(isinstance(e, UserUttered) for e in again.events)


# --- two servers starting on one fresh database ------------------------------------------------


@pytest.mark.postgres
def test_the_index_race_between_two_starting_servers_is_lost_harmlessly(postgres_url: str) -> None:
    """The other server creates the index between our check and our CREATE INDEX."""
    import sqlalchemy as sa

    from mesoguide.production.tracker_store import SENDER_ID_INDEX, ensure_index

    url = create_database(postgres_url)
    engine = sa.create_engine(url)
    table = sa.Table("events", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True), sa.Column("sender_id", sa.String))
    table.create(engine)
    sa.Index(SENDER_ID_INDEX, table.c.sender_id, table.c.id).create(engine)  # the other server won
    index = sa.Index(SENDER_ID_INDEX, table.c.sender_id, table.c.id)
    real_create = sa.Index.create
    lost = []

    def create_as_if_the_check_came_first(self: sa.Index, bind: object, checkfirst: bool = False) -> None:
        lost.append(True)
        real_create(self, bind, checkfirst=False)  # our check saw no index: CREATE INDEX fails

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sa.Index, "create", create_as_if_the_check_came_first)
        with pytest.raises(sa.exc.ProgrammingError):
            real_create(index, engine)  # what ended a server's start-up
        ensure_index(engine, index)  # no error: the index is there
    assert lost
    assert [i["name"] for i in sa.inspect(engine).get_indexes("events")] == [SENDER_ID_INDEX]
    with pytest.raises(sa.exc.OperationalError):
        ensure_index(sa.create_engine(url.rsplit("/", 1)[0] + "/no_such_database"), index, attempts=2)
    engine.dispose()


def _build_store_at(url: str, go: Any) -> None:
    """A server's start-up, in its own process: build the tracker store when ``go`` is set."""
    import sqlalchemy as sa

    parts = sa.engine.make_url(url)
    config = EndpointConfig(
        type=TRACKER_STORE_CLASS,
        dialect="postgresql",
        url=parts.host,
        port=parts.port,
        db=parts.database,
        username=parts.username,
        password=parts.password,
    )
    go.wait(60)
    store = create_tracker_store(config, Domain.load(REPO_ROOT / "domain.yml"))
    if not isinstance(store, ResilientSQLTrackerStore):
        raise SystemExit(f"fell back to {type(store).__name__}")


@pytest.mark.postgres
def test_two_servers_start_together_on_one_fresh_database(postgres_url: str) -> None:
    """Two processes, as the production profile starts its Rasa servers, on a fresh database."""
    import multiprocessing

    spawn = multiprocessing.get_context("spawn")
    for _ in range(3):
        url = create_database(postgres_url)
        go = spawn.Event()
        servers = [spawn.Process(target=_build_store_at, args=(url, go)) for _ in range(2)]
        for server in servers:
            server.start()
        time.sleep(8)  # both have imported Rasa and wait at the line
        go.set()
        for server in servers:
            server.join(120)
        assert [server.exitcode for server in servers] == [0, 0]
