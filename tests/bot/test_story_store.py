"""The story store on a real Redis: retrieval through the index only, term counts, expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import redis.asyncio as aioredis

from bot.keys import Keys
from bot.story_store import FEW_KEYS, MIN_HITS, StoryStore
from digests.facts import Fact
from digests.stories import (
    ArticleProfile,
    StoryProfile,
    df_keys,
    index_keys,
    new_story,
    query_keys,
)

WINDOW_HOURS = 168.0
T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


@pytest.fixture
def store(redis_client: aioredis.Redis, keys: Keys) -> StoryStore:
    return StoryStore(redis_client, keys, window_hours=WINDOW_HOURS, ttl_days=14, memory_facts=5)


def profile(
    aid: str, terms: dict[str, float], *, at: datetime = T0, numbers: frozenset[str] = frozenset()
) -> ArticleProfile:
    return ArticleProfile(
        article_id=aid,
        title=aid,
        language="de",
        published=at,
        terms=terms,
        actors={},
        numbers=numbers,
    )


BRIDGE = {"altwerda": 0.6, "bridge": 0.5, "mulde": 0.4, "taucher": 0.3, "collapse": 0.3}
HARBOUR = {"hafen": 0.6, "streik": 0.5, "kran": 0.4, "container": 0.3, "lohn": 0.3}


async def saved(store: StoryStore, article: ArticleProfile) -> StoryProfile:
    found = await store.candidates(article, article.published)
    story = new_story(article, found.new_id or await store.next_id(), found.df)
    await store.save(story, [], [article.article_id], counted=article)
    return story


async def test_candidates_come_only_through_shared_index_keys(store: StoryStore) -> None:
    bridge = await saved(store, profile("b1", BRIDGE))
    await saved(store, profile("h1", HARBOUR))
    follow_up = profile("b2", {**BRIDGE, "trauer": 0.4}, at=T0 + timedelta(hours=5))
    found = await store.candidates(follow_up, follow_up.published)
    assert [s.id for s in found.stories] == [bridge.id]
    assert found.new_id is None  # a candidate exists: the article may join it
    assert found.stories[0] == bridge
    # Nothing shared: no candidate, and the number of the story it will start.
    other = profile("x", {"oper": 0.7, "premiere": 0.7, "tenor": 0.5})
    found = await store.candidates(other, other.published)
    assert found.stories == []
    assert found.new_id == "s3"


async def test_one_shared_key_is_not_enough_for_a_candidate(store: StoryStore) -> None:
    await saved(store, profile("b1", BRIDGE))
    terms = {"altwerda": 0.7, "oper": 0.6, "premiere": 0.5, "tenor": 0.4, "chor": 0.3}
    terms |= {"intendant": 0.3, "spielzeit": 0.2}
    article = profile("o1", terms, at=T0 + timedelta(hours=1))
    assert len(query_keys(article)) >= FEW_KEYS and MIN_HITS == 2
    found = await store.candidates(article, article.published)
    assert found.stories == []
    # A teaser with few keys is looked up with one.
    teaser = profile("o2", {"altwerda": 0.7, "oper": 0.6}, at=T0 + timedelta(hours=1))
    found = await store.candidates(teaser, teaser.published)
    assert [s.id for s in found.stories] == ["s1"]


async def test_stories_outside_the_window_are_not_candidates(store: StoryStore) -> None:
    await saved(store, profile("b1", BRIDGE))
    late = profile("b2", BRIDGE, at=T0 + timedelta(hours=WINDOW_HOURS + 1))
    found = await store.candidates(late, late.published)
    assert found.stories == []


async def test_counts_are_fetched_with_the_candidates(store: StoryStore) -> None:
    for n in range(3):
        await saved(store, profile(f"b{n}", BRIDGE, at=T0 + timedelta(hours=n)))
    await saved(store, profile("h1", HARBOUR, at=T0 + timedelta(hours=3)))
    probe = profile("p", {"bridge": 0.5, "hafen": 0.5, "neu": 0.5}, at=T0 + timedelta(hours=4))
    found = await store.candidates(probe, probe.published)
    assert found.df.counts == {"bridge": pytest.approx(3.0), "hafen": pytest.approx(1.0)}
    assert found.df.total == pytest.approx(4.0)


async def test_figures_are_counted_but_not_years(
    store: StoryStore, redis_client: aioredis.Redis, keys: Keys
) -> None:
    article = profile("b1", BRIDGE, numbers=frozenset({"4500000", "y:2026"}))
    await saved(store, article)
    bucket = int(T0.timestamp() // (WINDOW_HOURS * 3600))
    counts = await redis_client.hgetall(keys.story_df(bucket))
    assert counts[b"#4500000"] == b"1"
    assert b"#y:2026" not in counts
    assert counts[b"*"] == b"1"
    assert {k.decode() for k in counts if not k.startswith(b"a:")} == {*df_keys(article), "*"}
    # Saved again (a replay after a crash), the article is not counted twice.
    found = await store.candidates(article, article.published)
    story = new_story(article, found.new_id or await store.next_id(), found.df)
    await store.save(story, [], [article.article_id], counted=article)
    assert await redis_client.hgetall(keys.story_df(bucket)) == counts


async def test_counts_slide_out_with_the_window(store: StoryStore) -> None:
    window = timedelta(hours=WINDOW_HOURS)
    bucket_start = datetime.fromtimestamp(
        (int(T0.timestamp() // window.total_seconds()) + 1) * window.total_seconds(), UTC
    )
    # Counted late in one bucket ...
    await saved(store, profile("b1", BRIDGE, at=bucket_start - timedelta(hours=1)))
    probe = profile("p", {"bridge": 1.0})
    # ... seen in full at the start of the next, a quarter at three quarters of it ...
    found = await store.candidates(probe, bucket_start)
    assert found.df.counts["bridge"] == pytest.approx(1.0)
    found = await store.candidates(probe, bucket_start + 0.75 * window)
    assert found.df.counts["bridge"] == pytest.approx(0.25)
    assert found.df.total == pytest.approx(0.25)
    # ... and not at all a window later.
    found = await store.candidates(probe, bucket_start + window + timedelta(hours=1))
    assert found.df.counts == {}
    assert found.df.total == 0.0


async def test_keys_expire(store: StoryStore, redis_client: aioredis.Redis, keys: Keys) -> None:
    story = await saved(store, profile("b1", BRIDGE))
    bucket = int(T0.timestamp() // (WINDOW_HOURS * 3600))
    df_ttl = await redis_client.ttl(keys.story_df(bucket))
    assert 2 * WINDOW_HOURS * 3600 - 60 <= df_ttl <= 2 * WINDOW_HOURS * 3600
    for key in index_keys(story):
        assert 0 < await redis_client.ttl(keys.story_term(key)) <= 14 * 86400
    assert 0 < await redis_client.ttl(keys.story_meta(story.id)) <= 14 * 86400


async def test_fact_memory_keeps_the_most_recent_facts(store: StoryStore) -> None:
    story = await saved(store, profile("b1", BRIDGE))

    def fact(n: int) -> Fact:
        return Fact(
            sentence=f"Satz {n}.",
            text=f"Satz {n}.",
            type="other",
            actors=frozenset(),
            numbers=(),
            quote_speaker=None,
            terms=frozenset({f"t{n}"}),
            importance=0.5,
        )

    await store.save(story, [fact(n) for n in range(4)], ["b1"])
    await store.save(story, [fact(n) for n in range(4, 8)], ["b2"])
    kept = await store.facts(story.id)
    assert [f.sentence for f in kept] == [f"Satz {n}." for n in range(3, 8)]


async def test_article_links_and_new_story_numbers(store: StoryStore) -> None:
    first = await saved(store, profile("b1", BRIDGE))
    second = await saved(store, profile("h1", HARBOUR))
    assert (first.id, second.id) == ("s1", "s2")
    assert await store.story_of("b1") == "s1"
    assert await store.next_id() == "s3"
