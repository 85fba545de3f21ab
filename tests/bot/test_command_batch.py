"""A round trip of commands: in order, whole or not at all, bounded in time."""

from __future__ import annotations

import asyncio
import hashlib
import socket
import time
from collections.abc import Iterator

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.command_batch import CommandBatch, script_call
from bot.keys import Keys
from bot.redis_conn import CPackedConnection

_ECHO = "return ARGV[1]"


async def test_commands_run_in_order_and_reads_see_earlier_writes(
    redis_client: aioredis.Redis, keys: Keys
) -> None:
    batch = CommandBatch(redis_client, {})
    key = keys.prefix + ":order"
    replies = await batch.run(
        [("RPUSH", key, "a"), ("RPUSH", key, "b"), ("LRANGE", key, 0, -1), ("GET", key + ":none")]
    )
    assert replies == [1, 2, [b"a", b"b"], None]
    assert batch.round_trips == 1


async def test_a_refused_command_leaves_none_of_its_round_trip_written(
    redis_client: aioredis.Redis, keys: Keys
) -> None:
    batch = CommandBatch(redis_client, {})
    key = keys.prefix + ":whole"
    with pytest.raises(ResponseError, match="wrong number of arguments"):
        await batch.run([("SET", key, "written"), ("SET", key + ":bad")])
    assert await redis_client.get(key) is None
    # The connection is still in step: the next round trip gets its own replies.
    assert await batch.run([("SET", key, "x"), ("GET", key)]) == [b"OK", b"x"]


async def test_scripts_lost_by_the_server_are_loaded_again(
    redis_client: aioredis.Redis, keys: Keys
) -> None:
    sha = hashlib.sha1(_ECHO.encode()).hexdigest()
    batch = CommandBatch(redis_client, {sha: _ECHO})
    await redis_client.script_flush()
    key = keys.prefix + ":script"
    replies = await batch.run([("SET", key, "1"), script_call(sha, [], "hello")])
    assert replies[-1] == b"hello"
    await redis_client.script_flush()
    assert await batch.run([script_call(sha, [], "again")]) == [b"again"]


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port whose connections open (the kernel's backlog) and never answer."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    yield server.getsockname()[1]
    server.close()


async def test_a_server_that_does_not_answer_gives_a_timeout_not_a_hang(
    silent_server: int,
) -> None:
    client = aioredis.Redis.from_url(
        f"redis://127.0.0.1:{silent_server}",
        socket_timeout=0.3,
        connection_class=CPackedConnection,
    )
    batch = CommandBatch(client, {})
    started = time.monotonic()
    try:
        for commands in ([("GET", "k")], [("SET", "k", "v"), ("GET", "k")]):
            with pytest.raises(RedisTimeoutError):
                await asyncio.wait_for(batch.run(commands), 20)
    finally:
        await client.aclose()
    # Each try is bounded by the socket timeout (the client retries a few times).
    assert time.monotonic() - started < 15
