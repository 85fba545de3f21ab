"""The dedup core against a real Redis: exact, near and concurrent claims."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import redis.asyncio as aioredis

from bot.dedup_store import DedupSettings, DedupStore
from bot.keys import Keys
from digests.models import Article

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)

BODY = (
    "The city council of Lindenfeld approved a new tram line on Tuesday evening after a "
    "debate that lasted almost five hours. The line will connect the central station with "
    "the university campus and the new housing district in the north. Construction is due "
    "to start next spring and should take about three years, the mayor said. The project "
    "will cost 148 million euros, two thirds of which the regional government will pay. "
    "Opposition councillors criticised the plan as too expensive and demanded a cheaper bus "
    "solution. Residents along the planned route had collected 2,300 signatures against the "
    "removal of parking spaces. The transport company expects 21,000 passengers a day once "
    "the line opens."
)


def article(ident: str, text: str = BODY, url: str = "", guid: str = "", **kw: object) -> Article:
    return Article(
        id=ident,
        url=url or f"https://news.example/{ident}",
        canonical_url=url or f"https://news.example/{ident}",
        source=str(kw.get("source", "Example News")),
        title=str(kw.get("title", "Council approves tram line")),
        published=NOW,
        language="en",
        text=text,
        guid=guid,
    )


def store(client: aioredis.Redis, keys: Keys) -> DedupStore:
    return DedupStore(client, keys, DedupSettings(shards=64))


async def test_new_then_exact_by_url_guid_and_content(
    redis_client: aioredis.Redis, keys: Keys
) -> None:
    s = store(redis_client, keys)
    first = await s.claim(article("a1", guid="https://news.example/a1"), NOW)
    assert first.kind == "new"
    again = await s.claim(article("a1", guid="https://news.example/a1"), NOW)
    assert (again.kind, again.duplicate_of, again.reason) == ("exact", "a1", "guid")
    same_url = await s.claim(article("a2", url="https://news.example/a1"), NOW)
    assert (same_url.kind, same_url.duplicate_of, same_url.reason) == ("exact", "a1", "url")
    same_text = await s.claim(article("a3", title="Other headline"), NOW)
    assert (same_text.kind, same_text.duplicate_of, same_text.reason) == ("exact", "a1", "content")


async def test_near_duplicate_with_trimmed_paragraph_and_reworded_sentence(
    redis_client: aioredis.Redis, keys: Keys
) -> None:
    s = store(redis_client, keys)
    assert (await s.claim(article("orig"), NOW)).kind == "new"
    trimmed = BODY.replace(
        "Residents along the planned route had collected 2,300 signatures against the "
        "removal of parking spaces. ",
        "",
    ).replace("the mayor said", "according to the mayor")
    copy = await s.claim(article("copy", text=trimmed, title="Tram line gets green light"), NOW)
    assert copy.kind == "near"
    assert copy.duplicate_of == "orig"
    assert 0.5 <= copy.similarity < 1.0


async def test_same_event_in_other_words_is_not_a_duplicate(
    redis_client: aioredis.Redis, keys: Keys
) -> None:
    s = store(redis_client, keys)
    await s.claim(article("orig"), NOW)
    other = (
        "Lindenfeld will get a tram to the university. After a marathon session the "
        "councillors said yes to the plan on Tuesday. Critics call it a waste of money and "
        "prefer buses. Building work begins in the spring; the regional government covers "
        "most of the 148 million euro bill."
    )
    assert (await s.claim(article("other", text=other), NOW)).kind == "new"


async def test_concurrent_workers_never_both_accept(redis_url: str, keys: Keys) -> None:
    clients = [aioredis.Redis.from_url(redis_url) for _ in range(4)]
    try:
        stores = [store(c, keys) for c in clients]
        results = await asyncio.gather(
            *(
                st.claim(article(f"w{i}", url="https://news.example/same"), NOW)
                for i, st in enumerate(stores)
            )
        )
        assert sorted(r.kind for r in results) == ["exact", "exact", "exact", "new"]
    finally:
        for c in clients:
            async for key in c.scan_iter(match=keys.all_pattern()):
                await c.unlink(key)
            await c.aclose()


async def test_state_expires_after_ttl(redis_client: aioredis.Redis, keys: Keys) -> None:
    s = DedupStore(redis_client, keys, DedupSettings(ttl_days=3, shards=8))
    now = datetime.now(UTC)
    await s.claim(article("old"), now)
    ttls = [await redis_client.ttl(k) async for k in redis_client.scan_iter(keys.dedup_pattern())]
    assert ttls and all(3 * 86400 <= t <= 4 * 86400 + 60 for t in ttls)
    # After the TTL the article is forgotten: the same text is new again.
    later = now + timedelta(days=5)
    assert (await s.claim(article("old-again", url="https://news.example/x"), later)).kind == "new"


async def test_batch_decides_like_one_by_one_and_sees_its_own_earlier_articles(
    redis_client: aioredis.Redis, keys: Keys
) -> None:
    trimmed = BODY.replace("the mayor said", "according to the mayor")
    other = (
        "A heatwave closed four schools in the valley on Monday. Temperatures reached 39 "
        "degrees in the afternoon and the health office asked older people to stay indoors. "
        "Farmers reported damage to the maize harvest and called for emergency aid."
    )
    batch = [
        article("b1"),
        article("b2", url="https://news.example/b1"),  # same URL as b1, in the same batch
        article("b3", text=trimmed, title="Tram line gets green light"),
        article("b4", text=other, title="Heat closes schools"),
    ]
    s = store(redis_client, keys)
    trips = s.round_trips
    decisions = await s.claim_many(batch, NOW)
    assert [(d.kind, d.duplicate_of) for d in decisions] == [
        ("new", None),
        ("exact", "b1"),
        ("near", "b1"),
        ("new", None),
    ]
    assert s.round_trips - trips == 1
    # The batch left the same state as single claims: a repeat of each is suppressed.
    again = await s.claim_many([article("b5", text=other, url="https://news.example/b4")], NOW)
    assert (again[0].kind, again[0].duplicate_of) == ("exact", "b4")


async def test_batch_survives_a_flushed_script_cache(
    redis_client: aioredis.Redis, keys: Keys
) -> None:
    s = store(redis_client, keys)
    await s.claim(article("c1"), NOW)
    await redis_client.script_flush()
    decisions = await s.claim_many(
        [article("c2", url="https://news.example/c1"), article("c3", text="Fresh text " * 40)],
        NOW,
    )
    assert [d.kind for d in decisions] == ["exact", "new"]
