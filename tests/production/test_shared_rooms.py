"""Several Rasa servers, one widget conversation: a message emitted by one server reaches a widget
connected to another (a staff member's message goes through whichever server the dashboard
reached), through a real redis-server; with Redis stopped, each server still reaches its own
sockets. Two real socket.io servers on loopback, a real socket.io client."""

from __future__ import annotations

import asyncio
from pathlib import Path

import redis.asyncio
import socketio
from aiohttp import web

from mesoguide.channels.webchat import SOCKETIO_CHANNEL, share_rooms
from mesoguide.production.services import quiet_port
from tests.production.test_stores import RedisServer, redis_server  # noqa: F401 - the fixture

ROOM = "conversation-abc"


async def _server(redis_url: str | None) -> tuple[socketio.AsyncServer, web.AppRunner, int]:
    sio = socketio.AsyncServer(async_mode="aiohttp", cors_allowed_origins=[])
    share_rooms(sio, redis_url)

    @sio.on("session_request")
    async def join(sid: str, data: dict) -> None:  # what the widget channel does on connect
        await sio.enter_room(sid, ROOM)
        await sio.emit("session_confirm", ROOM, room=sid)

    app = web.Application()
    sio.attach(app)
    runner = web.AppRunner(app)
    await runner.setup()
    port = quiet_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return sio, runner, port


async def _widget(port: int) -> tuple[socketio.AsyncClient, asyncio.Queue]:
    received: asyncio.Queue = asyncio.Queue()
    confirmed = asyncio.Event()
    client = socketio.AsyncClient(reconnection=False)
    client.on("bot_uttered", received.put_nowait)
    client.on("session_confirm", lambda _sid: confirmed.set())
    await client.connect(f"http://127.0.0.1:{port}", transports=["polling"])  # aiohttp 3.9: no websocket client
    await client.emit("session_request", {"session_id": ROOM})
    await asyncio.wait_for(confirmed.wait(), 10)
    return client, received


async def _subscribed(url: str, timeout_s: float = 20.0) -> None:
    """Wait until a server's Redis listener has subscribed to the rooms' channel."""
    client = redis.asyncio.Redis.from_url(url)
    try:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while not dict(await client.pubsub_numsub(SOCKETIO_CHANNEL)).get(SOCKETIO_CHANNEL.encode()):
            assert asyncio.get_running_loop().time() < deadline, "no socket.io server subscribed to Redis"
            await asyncio.sleep(0.05)
    finally:
        await client.close()


def test_a_message_sent_by_one_server_reaches_a_widget_on_another(redis_server: RedisServer) -> None:  # noqa: F811
    url = f"redis://:test-password@127.0.0.1:{redis_server.managed.port}/0"

    async def scenario() -> None:
        first, first_runner, _ = await _server(url)
        second, second_runner, second_port = await _server(url)
        client, received = await _widget(second_port)
        try:
            await _subscribed(url)  # the widget's server listens on Redis before anything is sent
            await first.emit("bot_uttered", {"text": "Anna: hello", "staff": "Anna"}, room=ROOM)
            assert await asyncio.wait_for(received.get(), 10) == {"text": "Anna: hello", "staff": "Anna"}
            await second.emit("bot_uttered", {"text": "own server"}, room=ROOM)
            assert (await asyncio.wait_for(received.get(), 10))["text"] == "own server"
            assert received.empty(), "each message arrives once"

            # Redis down: a server still reaches its own sockets at once (no error, no wait).
            redis_server.stop()
            await second.emit("bot_uttered", {"text": "while redis is down"}, room=ROOM)
            assert (await asyncio.wait_for(received.get(), 5))["text"] == "while redis is down"
        finally:
            await client.eio.disconnect(abort=True)  # a polite disconnect waits out the long poll (30 s)
            await first_runner.cleanup()
            await second_runner.cleanup()

    asyncio.run(scenario())


def test_without_a_redis_url_a_server_keeps_its_own_rooms(tmp_path: Path) -> None:
    async def scenario() -> None:
        sio, runner, port = await _server(None)
        assert type(sio.manager).__name__ == "AsyncManager"
        client, received = await _widget(port)
        try:
            await sio.emit("bot_uttered", {"text": "hi"}, room=ROOM)
            assert (await asyncio.wait_for(received.get(), 5))["text"] == "hi"
        finally:
            await client.eio.disconnect(abort=True)  # a polite disconnect waits out the long poll (30 s)
            await runner.cleanup()

    asyncio.run(scenario())
