"""Two `digestbot run` workers on one Redis; one is SIGKILLed mid-run, nothing is lost.

Both poll the sample feeds (feed leases split them), share the ingest journal
and the outbox through consumer groups and elect one scheduler. One worker is
killed while digests are being delivered; the survivor takes over its journaled
articles and its unsent messages after ``takeover_after`` and every chat gets
every message of a single-worker reference run.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from bot.keys import Keys
from tests.bot.test_chaos import (
    CHATS,
    delivered,
    finish,
    new_emulator,
    run_reference,
    settled,
    start,
    subscribe_all,
    write_config,
)


@pytest.mark.timeout(300)
async def test_killing_one_of_two_workers_loses_nothing(
    tmp_path: Path, redis_url: str, redis_client: aioredis.Redis, keys: Keys
) -> None:
    expected = await run_reference(tmp_path, redis_url, redis_client, keys)

    emu = new_emulator()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        await subscribe_all(redis_client, keys)
        config = tmp_path / "two.toml"
        write_config(config, keys.prefix, emu.url, poller="takeover_after = 4.0")
        # The second worker joins once the first has journaled its first cycle: two
        # workers journaling at once give the pipeline another article order than one
        # worker does, and then stories group otherwise than in the reference run.
        procs = [start(config, redis_url, tmp_path, worker="w1")]
        deadline = time.monotonic() + 60
        while len(emu.all_sent()) < 1:
            assert time.monotonic() < deadline, "nothing delivered"
            await asyncio.sleep(0.02)
        procs.append(start(config, redis_url, tmp_path, worker="w2"))
        while len(emu.all_sent()) < 10:
            assert time.monotonic() < deadline, "nothing delivered"
            await asyncio.sleep(0.02)
        at_kill = len(emu.all_sent())
        procs[0].kill()
        await asyncio.to_thread(procs[0].wait, 10)
        await settled(redis_client, keys, emu, timeout=90)
        assert procs[1].poll() is None
        await finish(procs[1])
        assert procs[1].returncode == 0
        got = delivered(emu)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
        emu.stop()

    lost = expected - got
    duplicates = sum((got - expected).values())
    print(
        f"two workers, one SIGKILLed after {at_kill} of {sum(expected.values())} messages: "
        f"{sum(got.values())} delivered, {sum(lost.values())} lost, {duplicates} duplicates"
    )
    assert not lost
    assert {m for m in got if m not in expected} == set()
    # Only a part Telegram accepted in the instant before the kill may come twice: one kill,
    # and each chat's parts go out one at a time, so at most one part per chat.
    assert duplicates <= len(CHATS)
