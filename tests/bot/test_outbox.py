"""Fan-out and the scheduler on a real Redis: idempotency, filters, schedules, quiet hours."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import redis.asyncio as aioredis

from bot.keys import Keys
from bot.outbox import (
    Outbox,
    digest_id,
    entry_from_dict,
    entry_id,
    entry_to_dict,
    load_entries,
)
from bot.subscription_store import SubscriptionStore
from digests.models import DigestEntry, FactOut, SourceRef
from digests.subscriptions import Subscription

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
FEED = "continental-wire"


def entry(n: int, text: str = "") -> DigestEntry:
    src = SourceRef("Continental Wire", f"https://wire.example/{n}")
    return DigestEntry(
        story_id=f"s{n}",
        title=f"Harbour strike day {n}",
        status="new_story",
        language="en",
        facts=[
            FactOut(
                "statement",
                text or f"The dock workers' union said the strike would last {n} days.",
                f"sentence {n}",
                (src,),
                0.5,
            )
        ],
        sources=[src],
    )


async def messages(client: aioredis.Redis, keys: Keys) -> list[dict[str, str]]:
    out = []
    for _id, raw in await client.xrange(keys.outbox_stream()):
        out.append({k.decode(): v.decode() for k, v in raw.items()})
    return out


async def put(store: SubscriptionStore, target: str, **settings: object) -> Subscription:
    sub = Subscription(target=target).with_changes(**settings)
    await store.put(sub)
    return sub


def outbox(client: aioredis.Redis, keys: Keys, **kwargs: object) -> Outbox:
    return Outbox(client, keys, SubscriptionStore(client, keys), **kwargs)  # type: ignore[arg-type]


async def test_entry_round_trip_and_stable_id() -> None:
    e = entry(1)
    again = entry_from_dict(json.loads(json.dumps(entry_to_dict(e))))
    assert again == e
    assert entry_id(again) == entry_id(e)
    assert entry_id(entry(2)) != entry_id(e)


async def test_fan_out_is_idempotent(redis_client: aioredis.Redis, keys: Keys) -> None:
    box = outbox(redis_client, keys)
    await put(box.store, "telegram:101")
    await put(box.store, "telegram:-1002:7", chat_type="supergroup")
    e = entry(1)

    first = await box.fan_out(e, FEED, T0)
    second = await box.fan_out(e, FEED, T0 + timedelta(seconds=5))
    # A second Outbox (another worker) running the same fan-out queues nothing either.
    third = await outbox(redis_client, keys).fan_out(e, FEED, T0)

    assert sorted(first.instant) == ["telegram:-1002:7", "telegram:101"]
    assert sorted(second.already) == sorted(third.already) == sorted(first.instant)
    assert not second.instant and not third.instant
    queued = await messages(redis_client, keys)
    assert len(queued) == 2
    for msg in queued:
        ids = json.loads(msg["entries"])
        assert ids == [entry_id(e)]
        assert msg["digest_id"] == digest_id(msg["target"], ids)
    # The entry is stored once, with a TTL.
    assert await load_entries(redis_client, keys, [entry_id(e)]) == [e]
    assert await redis_client.ttl(keys.entry(entry_id(e))) > 0


async def test_fan_out_filters(redis_client: aioredis.Redis, keys: Keys) -> None:
    box = outbox(redis_client, keys)
    await put(box.store, "telegram:1")  # everything
    await put(box.store, "telegram:2", include=("strike",))
    await put(box.store, "telegram:3", include=("election",))
    await put(box.store, "telegram:4", exclude=("/dock\\s+workers/",))
    await put(box.store, "telegram:5", feeds=("other-feed",))
    await put(box.store, "telegram:6", feeds=(FEED,))
    await put(box.store, "telegram:7", paused=True)
    await put(box.store, "telegram:8", active=False, deactivated_reason="blocked")
    await put(box.store, "webhook:ops", chat_type="webhook")

    report = await box.fan_out(entry(1), FEED, T0)

    assert sorted(report.instant) == ["telegram:1", "telegram:2", "telegram:6"]
    assert sorted(m["target"] for m in await messages(redis_client, keys)) == sorted(report.instant)
    # Nobody wants it: nothing is stored at all.
    for sub in await box.store.all():
        await box.store.delete(sub.target)
    none = await box.fan_out(entry(3), FEED, T0)
    assert not none.instant and not none.held
    assert not await redis_client.exists(keys.entry(none.entry_id))


async def test_interval_digest_flushed_when_due(redis_client: aioredis.Redis, keys: Keys) -> None:
    box = outbox(redis_client, keys)
    target = "telegram:55"
    await put(box.store, target, mode="interval", interval_minutes=60, max_stories=2)
    for n in range(3):
        report = await box.fan_out(entry(n), FEED, T0)
        assert report.held == [target]
    assert await messages(redis_client, keys) == []
    assert len(await box.pending(target)) == 3

    # Never sent before: due now, takes max_stories, the rest waits for the next slot.
    assert await box.flush_due(T0) == 1
    (first,) = await messages(redis_client, keys)
    ids = json.loads(first["entries"])
    assert ids == [entry_id(entry(0)), entry_id(entry(1))]
    assert first["digest_id"] == digest_id(target, ids)  # the Lua hash equals Python's
    assert await box.pending(target) == [entry_id(entry(2))]

    assert await box.flush_due(T0 + timedelta(minutes=30)) == 0
    assert len(await messages(redis_client, keys)) == 1
    assert await box.flush_due(T0 + timedelta(minutes=61)) == 1
    second = (await messages(redis_client, keys))[1]
    assert json.loads(second["entries"]) == [entry_id(entry(2))]
    assert await box.pending(target) == []


async def test_daily_digest_at_its_time(redis_client: aioredis.Redis, keys: Keys) -> None:
    box = outbox(redis_client, keys)
    target = "telegram:77"
    await put(box.store, target, mode="daily", daily_at="08:00", timezone="Europe/Berlin")
    morning = datetime(2026, 3, 2, 6, 30, tzinfo=UTC)  # 07:30 in Berlin
    await box.fan_out(entry(1), FEED, morning - timedelta(hours=10))
    # Yesterday's slot was never used: the first flush sends, then one per day at 08:00.
    assert await box.flush_due(morning - timedelta(hours=10)) == 1
    await box.fan_out(entry(2), FEED, morning - timedelta(hours=1))
    assert await box.flush_due(morning) == 0
    assert await box.flush_due(morning + timedelta(minutes=31)) == 1  # 08:01 Berlin
    assert len(await messages(redis_client, keys)) == 2
    # An empty slot counts: an entry arriving at 10:00 waits for tomorrow.
    await box.fan_out(entry(3), FEED, morning + timedelta(hours=3))
    assert await box.flush_due(morning + timedelta(hours=3)) == 0
    assert await box.flush_due(morning + timedelta(days=1, minutes=31)) == 1


async def test_quiet_hours_hold_instant_entries(redis_client: aioredis.Redis, keys: Keys) -> None:
    box = outbox(redis_client, keys)
    target = "telegram:99"
    await put(box.store, target, quiet_start="22:00", quiet_end="07:00")
    night = datetime(2026, 3, 2, 23, 15, tzinfo=UTC)
    report = await box.fan_out(entry(1), FEED, night)
    assert report.held == [target] and not report.instant
    await box.fan_out(entry(2), FEED, night + timedelta(hours=1))
    assert await box.flush_due(night + timedelta(hours=2)) == 0
    assert await messages(redis_client, keys) == []

    assert await box.flush_due(datetime(2026, 3, 3, 7, 1, tzinfo=UTC)) == 1
    (msg,) = await messages(redis_client, keys)
    assert json.loads(msg["entries"]) == [entry_id(entry(1)), entry_id(entry(2))]
    # After the quiet hours instant entries go straight to the stream again.
    day = await box.fan_out(entry(3), FEED, datetime(2026, 3, 3, 9, 0, tzinfo=UTC))
    assert day.instant == [target]


async def test_scheduler_runs_on_the_leader_only(redis_client: aioredis.Redis, keys: Keys) -> None:
    leader = outbox(redis_client, keys, lease_ms=60_000)
    other = outbox(redis_client, keys, lease_ms=60_000)
    await put(leader.store, "telegram:1", mode="interval")
    await leader.fan_out(entry(1), FEED, T0)
    assert await leader.flush_due(T0) == 1
    assert await other.flush_due(T0 + timedelta(hours=2)) is None
    assert await leader.lease()  # renewal by the holder
    await leader.release_lease()
    await leader.fan_out(entry(2), FEED, T0)
    assert await other.flush_due(T0 + timedelta(hours=2)) == 1
    assert len(await messages(redis_client, keys)) == 2


async def test_move_target_carries_pending_and_schedule(
    redis_client: aioredis.Redis, keys: Keys
) -> None:
    box = outbox(redis_client, keys)
    await put(box.store, "telegram:-5", chat_type="group", mode="interval")
    await box.fan_out(entry(1), FEED, T0)
    assert await box.flush_due(T0) == 1
    await box.fan_out(entry(2), FEED, T0)
    assert await box.move_target("telegram:-5", "telegram:-1005") == 1
    assert await box.pending("telegram:-1005") == [entry_id(entry(2))]
    assert await box.pending("telegram:-5") == []
    last = await redis_client.hgetall(keys.outbox_last_sent())
    assert set(last) == {b"telegram:-1005"}


def test_an_entry_record_holds_every_field_of_the_entry() -> None:
    # The record is written field by field for speed; a field added to the entry and
    # forgotten there would vanish from every queued digest.
    entry = DigestEntry(
        story_id="s9",
        title="Headline",
        status="update",
        language="en",
        facts=[
            FactOut("statement", "text", "sentence", (SourceRef("A", "https://a.example/1"),), 0.5)
        ],
        sources=[SourceRef("A", "https://a.example/1")],
        also_reported_by=[SourceRef("B", "https://b.example/2")],
        article_count=3,
        omitted_facts=2,
    )
    assert entry_to_dict(entry) == dataclasses.asdict(entry)
    assert entry_from_dict(entry_to_dict(entry)) == entry
