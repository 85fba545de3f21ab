"""The stores on a local three-master Redis Cluster.

Every multi-key script and MULTI keeps its keys in one hash slot (``bot.keys``);
here that is checked against a real cluster, where a cross-slot access fails.
The whole pipeline runs over the samples and must decide exactly as it does on
a single server. Skipped, with the reason, when no server binary exists.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import pytest
import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster

from bot.cli import _pipeline
from bot.config import Config
from bot.ingest_stream import IngestStream
from bot.keys import Keys
from bot.outbox import Outbox
from bot.ratelimit import Limits
from bot.subscription_store import SubscriptionStore
from bot.telegram_sender import SenderSettings, TelegramSender
from digests.feeds import parse_jsonl
from digests.models import Article
from digests.subscriptions import Subscription
from tests.redis_cluster import LocalCluster, server_binary
from tests.telegram_emulator import TelegramEmulator

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    binary = server_binary()
    if binary is None:
        pytest.skip("no redis-server or valkey-server binary to start a local cluster")
    local = LocalCluster(tmp_path_factory.mktemp("cluster"), binary).start()
    try:
        yield local
    finally:
        local.stop()


@pytest.fixture
async def cluster_client(cluster: LocalCluster) -> AsyncIterator[aioredis.Redis]:
    client = RedisCluster.from_url(cluster.url)
    await client.initialize()
    try:
        # The stores take the plain client's interface; the cluster client provides it.
        yield cast(aioredis.Redis, client)
    finally:
        await client.aclose()


def samples() -> list[Article]:
    data = (REPO / "samples" / "articles.jsonl").read_bytes()
    articles, problems = parse_jsonl(data, source="samples", now=NOW)
    assert not problems
    return articles


async def test_the_pipeline_decides_on_a_cluster_as_on_one_server(
    cluster_client: aioredis.Redis, redis_client: aioredis.Redis, keys: Keys
) -> None:
    cfg = Config()
    articles = samples()
    single = await _pipeline(cfg, redis_client, keys).process_many(articles, NOW)
    spread = await _pipeline(cfg, cluster_client, keys).process_many(articles, NOW)
    assert [o.replay_record() for o in spread] == [o.replay_record() for o in single]
    assert sum(o.status == "duplicate" for o in spread) >= 9
    # Replays after a crash work there too (outcome records, dedup self-matches).
    again = await _pipeline(cfg, cluster_client, keys).process_many(
        articles[:10], NOW, [True] * 10
    )
    assert [o.entry for o in again] == [o.entry for o in spread[:10]]


async def test_journal_and_outbox_on_a_cluster(cluster_client: aioredis.Redis, keys: Keys) -> None:
    articles = samples()[:5]
    journal = IngestStream(cluster_client, keys, "c1", claim_idle_ms=1000)
    await journal.add([("feed", a) for a in articles])
    assert await journal.lead()
    got = await journal.read(10)
    assert [d.article.id for d in got] == [a.id for a in articles]
    await journal.ack([d.stream_id for d in got])
    assert await journal.backlog() == 0
    await journal.resign()

    store = SubscriptionStore(cluster_client, keys)
    await store.put(Subscription(target="telegram:42"))
    outcomes = await _pipeline(Config(), cluster_client, keys).process_many(articles, NOW)
    entries = [o.entry for o in outcomes if o.entry is not None]
    outbox = Outbox(cluster_client, keys, store)
    for entry in entries:
        await outbox.fan_out(entry, "samples", NOW)
        await outbox.fan_out(entry, "samples", NOW)  # again: queued once
    assert await cluster_client.xlen(keys.outbox_stream()) == len(entries)


async def test_telegram_delivery_on_a_cluster(
    cluster_client: aioredis.Redis, keys: Keys, telegram_emulator: TelegramEmulator
) -> None:
    emu = telegram_emulator
    emu.add_chat(101, "private")
    emu.add_chat(-1003, "channel")
    store = SubscriptionStore(cluster_client, keys)
    await store.put(Subscription(target="telegram:101"))
    await store.put(Subscription(target="telegram:-1003", chat_type="channel"))
    await store.put(Subscription(target="telegram:777"))  # no such chat: dead-lettered
    outcomes = await _pipeline(Config(), cluster_client, keys).process_many(samples()[:3], NOW)
    entries = [o.entry for o in outcomes if o.entry is not None]
    outbox = Outbox(cluster_client, keys, store)
    for entry in entries:
        await outbox.fan_out(entry, "samples", NOW)
    bot = emu.make_bot()
    async with bot:
        sender = TelegramSender(
            bot, store, cluster_client, keys, Limits(), settings=SenderSettings(consumer="c")
        )
        await sender.drain_once()
        assert await sender.drain_once() == 0  # nothing twice
    assert len(emu.sent(101)) == len(emu.sent(-1003)) == len(entries)
    assert await cluster_client.xlen(keys.outbox_stream()) == 0
    assert await cluster_client.xlen(keys.outbox_dead()) >= 1


def test_digestbot_run_on_a_cluster(cluster: LocalCluster, tmp_path: Path, keys: Keys) -> None:
    config = tmp_path / "c.toml"
    feeds = "".join(
        f'[[feeds]]\nurl = "{feed}"\nname = "{feed.stem}"\nfull_text = "never"\n'
        for feed in sorted((REPO / "samples" / "feeds").glob("*.xml"))[:5]
    )
    config.write_text(f'[redis]\nprefix = "{keys.prefix}"\ncluster = true\n' + feeds)
    env = {**os.environ, "DIGESTBOT_REDIS_URL": cluster.url, "DIGESTBOT_DATA_DIR": str(tmp_path)}
    env.pop("DIGESTBOT_TELEGRAM_TOKEN", None)
    command = [sys.executable, "-m", "bot.cli", "--config", str(config), "run", "--once"]
    first = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr[-2000:]
    assert first.stdout.count("[New story]") >= 5
    again = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "[New story]" not in again.stdout  # everything was seen: the state is in the cluster
