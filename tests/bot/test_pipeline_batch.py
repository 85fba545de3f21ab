"""A batch of articles is decided exactly as the same articles one at a time.

The pipeline sends one article's writes with the next article's reads and cleans
and analyses a whole batch before its story work; none of that may change a
single decision, fact or note a reader gets.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from bot.cli import _pipeline
from bot.config import Config
from bot.keys import Keys
from bot.pipeline import CLAIM_BATCH
from digests.digest import Outcome
from digests.feeds import parse_jsonl
from digests.models import Article

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def samples() -> list[Article]:
    data = (REPO / "samples" / "articles.jsonl").read_bytes()
    articles, problems = parse_jsonl(data, source="samples", now=NOW)
    assert not problems
    return sorted(articles, key=lambda a: a.published)


def seen(outcome: Outcome) -> dict[str, Any]:
    entry = outcome.entry
    return {
        "id": outcome.article.id,
        "status": outcome.status,
        "story": outcome.story_id,
        "duplicate_of": outcome.dedup.duplicate_of,
        "facts": [(f.type, f.sentence) for f in outcome.new_facts],
        "title": entry.title if entry else None,
        "also": [s.name for s in entry.also_reported_by] if entry else [],
        "count": entry.article_count if entry else None,
    }


async def test_a_batch_decides_as_one_article_at_a_time(
    redis_client: aioredis.Redis, keys: Keys
) -> None:
    articles = samples()
    cfg = Config()
    one = _pipeline(cfg, redis_client, Keys(keys.prefix + "-one"))
    alone = [seen(await one.process(a, NOW)) for a in articles]
    many = _pipeline(cfg, redis_client, Keys(keys.prefix + "-many"))
    batched = [
        seen(o)
        for start in range(0, len(articles), CLAIM_BATCH)
        for o in await many.process_many(articles[start : start + CLAIM_BATCH], NOW)
    ]
    assert batched == alone
    # The samples hold every path: new stories, updates, duplicates with notes.
    statuses = {o["status"] for o in alone}
    assert {"new_story", "update", "duplicate"} <= statuses
    assert any(o["also"] for o in alone)


async def test_a_batch_survives_the_server_losing_its_scripts(
    redis_client: aioredis.Redis, keys: Keys
) -> None:
    articles = samples()
    cfg = Config()
    reference = [
        seen(o)
        for o in await _pipeline(cfg, redis_client, Keys(keys.prefix + "-ref")).process_many(
            articles, NOW
        )
    ]
    pipeline = _pipeline(cfg, redis_client, keys)
    half = len(articles) // 2
    first = await pipeline.process_many(articles[:half], NOW)
    # A restart without persistence or an operator's SCRIPT FLUSH: every cached script
    # is gone, mid-run, for all the stores at once.
    await redis_client.script_flush()
    second = await pipeline.process_many(articles[half:], NOW)
    assert [seen(o) for o in first + second] == reference
