"""The ingest journal on a real Redis: what a worker dies holding is processed, once.

A "crash" here is a worker that read journal entries and stopped before it
acknowledged them, at each point where a real process can die: before the
article's story was saved, and after.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import redis.asyncio as aioredis

from bot.cli import _pipeline
from bot.config import Config, DigestConfig
from bot.ingest_stream import IngestStream
from bot.keys import Keys
from bot.outbox import entry_to_dict, fact_to_dict
from digests.digest import Outcome
from digests.feeds import parse_jsonl
from digests.models import Article

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def sample_articles(n: int) -> list[Article]:
    data = (REPO / "samples" / "articles.jsonl").read_bytes()
    articles, problems = parse_jsonl(data, source="samples", now=NOW)
    assert not problems
    return sorted(articles, key=lambda a: a.published)[:n]


async def test_a_dead_workers_entries_go_to_its_successor_or_to_another_worker(
    redis_client: aioredis.Redis, keys: Keys
) -> None:
    articles = sample_articles(6)
    writer = IngestStream(redis_client, keys, "w1")
    await writer.add([("feed", a) for a in articles])
    first = await writer.read(4)
    assert [d.article for d in first] == articles[:4]
    assert not any(d.redelivered for d in first)
    # w1 dies here. Restarted under its name, it gets its own unacknowledged entries first.
    again = await IngestStream(redis_client, keys, "w1").read(10)
    assert [d.article.id for d in again] == [a.id for a in articles[:4]]
    assert all(d.redelivered for d in again)
    # Another worker takes them only once they have been idle for its claim time.
    other = IngestStream(redis_client, keys, "w2", claim_idle_ms=200)
    fresh = await other.read(10)
    assert [d.article.id for d in fresh] == [a.id for a in articles[4:]]
    await other.ack([d.stream_id for d in fresh])
    await asyncio.sleep(0.3)
    claimed = await other.read(10)
    assert [d.article.id for d in claimed] == [a.id for a in articles[:4]]
    assert all(d.redelivered for d in claimed)
    await other.ack([d.stream_id for d in claimed])
    assert await other.backlog() == 0
    assert await other.read(10) == []


async def test_replayed_articles_keep_their_digest_entries_and_are_not_reported_as_duplicates(
    redis_client: aioredis.Redis, keys: Keys
) -> None:
    cfg = Config()
    articles = sample_articles(8)
    pipeline = _pipeline(cfg, redis_client, keys)
    done = await pipeline.process_many(articles, NOW)
    posted = {o.article.id: o.entry for o in done if o.entry is not None}
    assert posted
    # Died after saving, before acknowledging: the same entries come back for the outbox.
    replayed = await pipeline.process_many(articles, NOW, [True] * len(articles))
    assert [o.status for o in replayed] == [o.status for o in done]
    assert {o.article.id: o.entry for o in replayed if o.entry is not None} == posted
    # Read again without a crash (the feed still lists them): plain duplicates, no entries.
    repeated = await pipeline.process_many(articles, NOW)
    assert {o.status for o in repeated} == {"duplicate"}
    assert all(o.entry is None for o in repeated)


async def test_an_article_claimed_but_never_saved_is_processed_in_full_on_replay(
    redis_client: aioredis.Redis, keys: Keys
) -> None:
    cfg = Config()
    article = sample_articles(1)[0]
    reference = await _pipeline(cfg, redis_client, Keys(keys.prefix + "-ref")).process_many(
        [article], NOW
    )
    pipeline = _pipeline(cfg, redis_client, keys)
    # Died right after the dedup claim: the article is "known" but has no story.
    assert (await pipeline.dedup.claim(article, NOW)).kind == "new"
    (outcome,) = await pipeline.process_many([article], NOW, [True])
    assert outcome.status == "new_story"
    assert outcome.entry is not None and reference[0].entry is not None
    assert [f.text for f in outcome.entry.facts] == [f.text for f in reference[0].entry.facts]
    async for key in redis_client.scan_iter(match=f"{keys.prefix}-ref*"):
        await redis_client.unlink(key)


async def test_a_replay_brings_back_every_fact_and_entry_as_saved_also_from_older_records(
    redis_client: aioredis.Redis, keys: Keys
) -> None:
    # Two facts per entry: most entries then leave facts out, so an entry's facts are a
    # ranked part of the article's new facts, which the record must keep apart.
    cfg = replace(Config(), digest=DigestConfig(max_facts=2))
    articles = sample_articles(20)
    pipeline = _pipeline(cfg, redis_client, keys)
    done = await pipeline.process_many(articles, NOW)
    assert any(o.entry is not None and o.entry.omitted_facts for o in done)

    def kept(outcomes: list[Outcome]) -> list[tuple[object, ...]]:
        return [(o.status, o.story_id, o.new_facts, o.entry) for o in outcomes]

    replayed = await pipeline.process_many(articles, NOW, [True] * len(articles))
    assert kept(replayed) == kept(done)

    # Records saved by the release before the compact form: every fact in full, twice.
    async for key in redis_client.scan_iter(match=keys.story_done("*")):
        for article_id, raw in (await redis_client.hgetall(key)).items():
            record = json.loads(raw)
            aid = article_id.decode() if isinstance(article_id, bytes) else article_id
            outcome = next(o for o in done if o.article.id == aid)
            record = {
                "status": record["status"],
                "new_facts": [fact_to_dict(f) for f in outcome.new_facts],
                "entry": entry_to_dict(outcome.entry) if outcome.entry else None,
            }
            await redis_client.hset(key, article_id, json.dumps(record))
    replayed = await pipeline.process_many(articles, NOW, [True] * len(articles))
    assert kept(replayed) == kept(done)
