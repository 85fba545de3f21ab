"""Two workers sharing the pipeline (``stories.workers = "all"``); one is SIGKILLed.

Both poll the sample feeds, both do the text work of what they read, and story
decisions take turns. The order in which articles meet their stories then
depends on timing, so the check is not a reference run's messages but the
product's own record: every article was decided (or is a duplicate), and every
digest entry the pipeline produced reached every chat.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from bot.cli import _pipeline
from bot.config import Config
from bot.keys import Keys
from bot.pipeline import read_record
from bot.sources import articles_from_bytes
from digests.render import render_messages
from tests.bot.test_chaos import (
    CHATS,
    FEEDS,
    delivered,
    finish,
    new_emulator,
    settled,
    start,
    subscribe_all,
    write_config,
)


async def produced(client: aioredis.Redis, keys: Keys) -> Counter[tuple[int, str]]:
    """What every chat should have got: the entries in the articles' outcome records,
    rendered as the sender renders an instant digest."""
    expected: Counter[tuple[int, str]] = Counter()
    async for key in client.scan_iter(match=keys.story_done("*")):
        for raw in (await client.hgetall(key)).values():
            _, _, entry = read_record(raw)
            if entry is not None:
                for html in render_messages([entry], "telegram", "en"):
                    for chat in CHATS:
                        expected[(chat, html)] += 1
    return expected


async def undecided(client: aioredis.Redis, keys: Keys) -> list[str]:
    """Sample articles that never reached a story and are no duplicate either."""
    now = datetime.now(UTC)
    articles = [
        article
        for feed in sorted(FEEDS.iterdir())
        if feed.suffix in (".xml", ".json")
        for article in articles_from_bytes(
            feed.read_bytes(), name=str(feed), source=feed.stem, now=now
        ).articles
    ]
    assert len(articles) > 20
    pipeline = _pipeline(Config(), client, keys)
    missing = []
    for article, decision in zip(
        articles, await pipeline.dedup.claim_many(articles, now), strict=True
    ):
        if decision.kind == "new":
            missing.append(f"{article.id}: never claimed")
        elif (
            decision.duplicate_of == article.id
            and await pipeline.stories.outcome_of(article.id) is None
        ):
            missing.append(f"{article.id}: claimed, no saved outcome")
    return missing


@pytest.mark.timeout(300)
async def test_two_workers_sharing_the_pipeline_lose_nothing_when_one_is_killed(
    tmp_path: Path, redis_url: str, redis_client: aioredis.Redis, keys: Keys
) -> None:
    emu = new_emulator()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        await subscribe_all(redis_client, keys)
        config = tmp_path / "shared.toml"
        write_config(config, keys.prefix, emu.url, poller="takeover_after = 4.0")
        with config.open("a") as fh:
            fh.write('[stories]\nworkers = "all"\n')
        procs = [
            start(config, redis_url, tmp_path, worker="w1"),
            start(config, redis_url, tmp_path, worker="w2"),
        ]
        deadline = time.monotonic() + 60
        while not emu.all_sent():
            assert time.monotonic() < deadline, "nothing delivered"
            assert all(p.poll() is None for p in procs), "a worker stopped"
            await asyncio.sleep(0.01)
        # The first digest is out: the pipeline is still at work on later batches.
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

    expected = await produced(redis_client, keys)
    lost = expected - got
    duplicates = sum((got - expected).values())
    print(
        f"two workers sharing the pipeline, one SIGKILLed after {at_kill} messages: "
        f"{sum(got.values())} delivered of {sum(expected.values())} produced, "
        f"{sum(lost.values())} lost, {duplicates} duplicates"
    )
    assert sum(expected.values()) >= 20 * len(CHATS)
    assert not lost
    assert {m for m in got if m not in expected} == set()
    # One kill; each chat's parts go out one at a time: at most one part per chat twice.
    assert duplicates <= len(CHATS)
    assert await undecided(redis_client, keys) == []
