"""Stories, their fact memory and the term counts of story assignment, in Redis.

Candidate stories for an article come only from the index keys of that
article (its strongest terms, actors and figures): one sorted set per key,
scored by the story's last update, so retrieval never scans all stories and
old stories fall out of the window by score. Everything of one story shares a
hash tag.

Term rarity: document frequencies are counted per time bucket of one story
window (``P:stories:df:<n>``: term → articles, ``*`` → all articles), keyed
by the articles' publication time so that a replay counts like live traffic.
A lookup reads the article's bucket and the one before and weighs the older
one by the share of the window it still covers (a sliding window of one story
window, as rate limiters do it), so counts decay without a per-term TTL and
memory stays at two buckets of vocabulary. The counts arrive in the same round
trip as the candidate ids.

Round trips per article: one for candidate ids and counts, one for the
candidates' profiles (only when some key hit), one to save, plus a counter
for a new story's id and the fact memory when the article joins a story.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import redis.asyncio as aioredis

from bot.keys import Keys
from digests.facts import Fact, fact_from_dict, fact_to_dict
from digests.stories import (
    ArticleProfile,
    DocFreq,
    StoryProfile,
    df_keys,
    index_keys,
    profile_from_dict,
    profile_to_dict,
    query_keys,
)

# Same-event stories share several of the article's strongest keys and rank first by
# hits (on the sample corpus every joined story ranked first, on 10kGNAD all but one in
# the first three); profiles are JSON-decoded per candidate, so few are fetched.
MAX_CANDIDATES = 8
# A key shared by more stories than this in the window (a country, "police") is not
# what finds the story; its most recent stories are enough to count hits.
PER_KEY = 20
# Facts of a story that novelty compares with: the most recent ones. A story that has
# collected more has long been reported; what its last updates said is what a repeat
# repeats. Bounds the cost of an update however long a story runs.
MEMORY_FACTS = 200
TOTAL = "*"  # the field counting the articles of a df bucket

# Counts one article's keys into its bucket: one call, one key (fine on a cluster).
_COUNT = """
for i = 2, #ARGV do redis.call('HINCRBY', KEYS[1], ARGV[i], 1) end
redis.call('HINCRBY', KEYS[1], '*', 1)
redis.call('EXPIRE', KEYS[1], ARGV[1])
"""


@dataclass(frozen=True, slots=True)
class Candidates:
    """Stories that may continue an article, and the term counts to score them with."""

    stories: list[StoryProfile]
    df: DocFreq


class StoryStore:
    """Reads and writes story profiles, fact memory, term counts and article→story links."""

    def __init__(
        self,
        client: aioredis.Redis,
        keys: Keys,
        *,
        window_hours: float,
        ttl_days: float,
        memory_facts: int = MEMORY_FACTS,
    ) -> None:
        self.client = client
        self.keys = keys
        self.window = window_hours * 3600.0
        self.ttl = int(ttl_days * 86400)
        self.memory_facts = memory_facts

    def _bucket(self, published: datetime) -> tuple[int, float]:
        """(bucket number, share of the bucket elapsed) for a publication time."""
        position = published.timestamp() / self.window
        bucket = int(position // 1)
        return bucket, position - bucket

    async def candidates(self, profile: ArticleProfile, published: datetime) -> Candidates:
        """Stories indexed under the article's query keys and updated within the window,
        with the recent document frequencies of the article's terms."""
        low = published.timestamp() - self.window
        terms = query_keys(profile)
        counted = df_keys(profile)
        bucket, elapsed = self._bucket(published)
        pipe = self.client.pipeline(transaction=False)
        for term in terms:
            pipe.zrevrangebyscore(self.keys.story_term(term), "+inf", low, start=0, num=PER_KEY)
        pipe.hmget(self.keys.story_df(bucket), [TOTAL, *counted])
        pipe.hmget(self.keys.story_df(bucket - 1), [TOTAL, *counted])
        replies = await pipe.execute()
        current, previous = replies[-2], replies[-1]
        hits: Counter[bytes] = Counter()
        for ids in replies[:-2]:
            hits.update(ids)
        df = _doc_freq(counted, current, previous, 1.0 - elapsed)
        if not hits:
            return Candidates([], df)
        chosen = [sid for sid, _ in hits.most_common(MAX_CANDIDATES)]
        pipe = self.client.pipeline(transaction=False)
        for sid in chosen:
            pipe.hget(self.keys.story_meta(sid.decode()), "profile")
        stories = [profile_from_dict(json.loads(raw)) for raw in await pipe.execute() if raw]
        return Candidates(stories, df)

    async def next_id(self) -> str:
        number = await self.client.incr(self.keys.story_seq())
        return f"s{number}"

    async def facts(self, story_id: str) -> list[Fact]:
        """The story's most recent ``memory_facts`` facts, oldest first."""
        key = self.keys.story_facts(story_id)
        raw = await self.client.lrange(key, -self.memory_facts, -1)
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
        counted: ArticleProfile | None = None,
    ) -> None:
        """Write the story, its new facts, its index entries and the article links at once;
        ``counted``: the article whose terms enter the document frequencies."""
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
            # The memory novelty reads is bounded; older facts would never be read again.
            pipe.ltrim(facts_key, -self.memory_facts, -1)
        pipe.expire(facts_key, self.ttl)
        for term in index_keys(story):
            key = self.keys.story_term(term)
            pipe.zadd(key, {story.id: score})
            # Stories that left the window can never be candidates again: drop them here.
            pipe.zremrangebyscore(key, "-inf", score - 4 * self.window)
            pipe.expire(key, self.ttl)
        for article_id in article_ids:
            pipe.set(self.keys.article_story(article_id), story.id, ex=self.ttl)
        if counted is not None:
            bucket, _ = self._bucket(counted.published)
            # Read until one window after the bucket ends: two windows after its last count.
            # EVAL rather than a registered script: a pipeline holding scripts checks
            # them with an extra round trip on every execute; the body is 150 bytes.
            pipe.eval(
                _COUNT, 1, self.keys.story_df(bucket), int(2 * self.window), *df_keys(counted)
            )
        await pipe.execute()


def _doc_freq(
    keys: Sequence[str],
    current: Sequence[bytes | None],
    previous: Sequence[bytes | None],
    carry: float,
) -> DocFreq:
    """Counts of the current bucket plus ``carry`` times those of the one before."""

    def value(raw: bytes | None) -> float:
        return float(raw) if raw else 0.0

    total = value(current[0]) + carry * value(previous[0])
    counts = {}
    for key, now, before in zip(keys, current[1:], previous[1:], strict=True):
        if now or before:
            counts[key] = value(now) + carry * value(before)
    return DocFreq(counts, total)
