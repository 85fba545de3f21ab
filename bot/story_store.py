"""Stories and their fact memory in Redis, found through an inverted index.

Candidate stories for an article come only from the index keys of that
article (its strongest terms and actors): one sorted set per key, scored by
the story's last update, so retrieval never scans all stories and old stories
fall out of the window by score. Everything of one story shares a hash tag.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from datetime import datetime

import redis.asyncio as aioredis

from bot.keys import Keys
from digests.facts import Fact, fact_from_dict, fact_to_dict
from digests.stories import StoryProfile, index_keys, profile_from_dict, profile_to_dict

MAX_CANDIDATES = 24
PER_KEY = 40


class StoryStore:
    """Reads and writes story profiles, fact memory and article→story links."""

    def __init__(
        self, client: aioredis.Redis, keys: Keys, *, window_hours: float, ttl_days: float
    ) -> None:
        self.client = client
        self.keys = keys
        self.window = window_hours * 3600.0
        self.ttl = int(ttl_days * 86400)

    async def candidates(self, terms: Sequence[str], published: datetime) -> list[StoryProfile]:
        """Stories indexed under any of ``terms`` and updated within the window."""
        low = published.timestamp() - self.window
        pipe = self.client.pipeline(transaction=False)
        for term in terms:
            pipe.zrevrangebyscore(self.keys.story_term(term), "+inf", low, start=0, num=PER_KEY)
        hits: Counter[bytes] = Counter()
        for ids in await pipe.execute():
            hits.update(ids)
        if not hits:
            return []
        chosen = [sid for sid, _ in hits.most_common(MAX_CANDIDATES)]
        pipe = self.client.pipeline(transaction=False)
        for sid in chosen:
            pipe.hget(self.keys.story_meta(sid.decode()), "profile")
        stories = []
        for raw in await pipe.execute():
            if raw:
                stories.append(profile_from_dict(json.loads(raw)))
        return stories

    async def next_id(self) -> str:
        number = await self.client.incr(self.keys.story_seq())
        return f"s{number}"

    async def facts(self, story_id: str) -> list[Fact]:
        raw = await self.client.lrange(self.keys.story_facts(story_id), 0, -1)
        return [fact_from_dict(json.loads(r)) for r in raw]

    async def story_of(self, article_id: str) -> str | None:
        raw = await self.client.get(self.keys.article_story(article_id))
        return (raw.decode() if isinstance(raw, bytes) else str(raw)) if raw else None

    async def note_also_reported(self, story_id: str, source: dict[str, str]) -> None:
        key = self.keys.story_meta(story_id)
        pipe = self.client.pipeline(transaction=False)
        pipe.hget(key, "also")
        (raw,) = await pipe.execute()
        also: list[dict[str, str]] = json.loads(raw) if raw else []
        if all(a["name"] != source["name"] for a in also):
            also.append(source)
        await self.client.hset(key, "also", json.dumps(also[-20:]))

    async def take_also_reported(self, story_id: str) -> list[dict[str, str]]:
        """The "also reported by" notes gathered since the story's last digest entry."""
        key = self.keys.story_meta(story_id)
        pipe = self.client.pipeline(transaction=True)
        pipe.hget(key, "also")
        pipe.hdel(key, "also")
        raw, _ = await pipe.execute()
        result: list[dict[str, str]] = json.loads(raw) if raw else []
        return result

    async def save(
        self,
        story: StoryProfile,
        new_facts: Sequence[Fact],
        article_ids: Sequence[str],
        extra: dict[str, str] | None = None,
    ) -> None:
        """Write the story, its new facts, its index entries and the article links at once."""
        score = story.last_seen.timestamp()
        meta = self.keys.story_meta(story.id)
        facts_key = self.keys.story_facts(story.id)
        pipe = self.client.pipeline(transaction=False)
        fields: dict[str | bytes, str | bytes] = {"profile": json.dumps(profile_to_dict(story))}
        fields.update(extra or {})
        pipe.hset(meta, mapping=fields)  # type: ignore[arg-type]
        pipe.expire(meta, self.ttl)
        if new_facts:
            pipe.rpush(facts_key, *(json.dumps(fact_to_dict(f)) for f in new_facts))
        pipe.expire(facts_key, self.ttl)
        for term in index_keys(story):
            key = self.keys.story_term(term)
            pipe.zadd(key, {story.id: score})
            # Stories that left the window can never be candidates again: drop them here.
            pipe.zremrangebyscore(key, "-inf", score - 4 * self.window)
            pipe.expire(key, self.ttl)
        for article_id in article_ids:
            pipe.set(self.keys.article_story(article_id), story.id, ex=self.ttl)
        await pipe.execute()
