"""The story turn (``stories.workers = "all"``): workers decide stories one at a time,
a handed-back turn goes to a waiting worker, and a dead holder blocks no one for long."""

from __future__ import annotations

import asyncio
import time

import redis.asyncio as aioredis

from bot import leases
from bot.ingest_stream import IngestStream
from bot.keys import Keys


async def test_turns_never_overlap_and_every_worker_gets_its_turns(
    redis_client: aioredis.Redis, keys: Keys
) -> None:
    streams = [IngestStream(redis_client, keys, f"w{i}") for i in range(3)]
    inside = 0
    most = 0
    turns = {s.consumer: 0 for s in streams}

    async def work(stream: IngestStream) -> None:
        nonlocal inside, most
        for _ in range(8):
            async with stream.story_turn():
                inside += 1
                most = max(most, inside)
                await asyncio.sleep(0.005)  # round trips of a batch's story work
                inside -= 1
                turns[stream.consumer] += 1

    await asyncio.wait_for(asyncio.gather(*(work(s) for s in streams)), timeout=30)
    assert most == 1
    assert turns == {"w0": 8, "w1": 8, "w2": 8}


async def test_a_waiting_worker_takes_a_handed_back_turn(
    redis_client: aioredis.Redis, keys: Keys
) -> None:
    first = IngestStream(redis_client, keys, "first")
    second = IngestStream(redis_client, keys, "second")
    order: list[str] = []
    holding = asyncio.Event()

    async def hold() -> None:
        async with first.story_turn():
            holding.set()
            await asyncio.sleep(0.3)
            order.append("first done")

    async def wait() -> None:
        await holding.wait()
        async with second.story_turn():
            order.append("second in")

    await asyncio.wait_for(asyncio.gather(hold(), wait()), timeout=10)
    assert order == ["first done", "second in"]


async def test_a_dead_holder_blocks_the_turn_only_until_its_lease_runs_out(
    redis_client: aioredis.Redis, keys: Keys
) -> None:
    # A worker killed in its turn leaves the lease behind and hands nothing back.
    assert await leases.take(redis_client, keys.story_turn(), "dead", 400)
    survivor = IngestStream(redis_client, keys, "survivor", turn_ms=400)
    t0 = time.monotonic()
    async with survivor.story_turn():
        waited = time.monotonic() - t0
    assert 0.2 < waited < 5.0
