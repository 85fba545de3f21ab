"""The webhook sender against real receivers on loopback and a real Redis.

Every platform gets the digest once and within its limits; 429 waits for
Retry-After, 404/410 deactivate the webhook, 5xx are retried and then
dead-lettered, and a second run posts nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
import redis.asyncio as aioredis

from bot.chat_commands import ensure_subscriptions
from bot.config import WebhookConfig, WebhookDeliveryConfig
from bot.keys import Keys
from bot.netguard import NetGuard
from bot.outbox import Outbox
from bot.subscription_store import SubscriptionStore
from bot.webhook_sender import WebhookSender, WebhookSenderSettings
from digests.models import DigestEntry, FactOut, SourceRef
from digests.subscriptions import Subscription
from tests.webhook_receivers import GENERIC_SECRET, MATRIX_TOKEN, PLATFORMS, WebhookReceivers

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
DELIVERY = WebhookDeliveryConfig(timeout=5.0, max_attempts=3, backoff_base=0.01, backoff_max=0.05)


def entry(n: int, facts: int = 2) -> DigestEntry:
    src = SourceRef("Continental Wire", f"https://wire.example/{n}")
    return DigestEntry(
        story_id=f"s{n}",
        title=f"Harbour strike day {n} <&>",
        status="new_story",
        language="en",
        facts=[
            FactOut("statement", f"The union said the strike would last {n + i} days.", "", (src,))
            for i in range(facts)
        ],
        sources=[src],
    )


def hooks_for(receivers: WebhookReceivers) -> list[WebhookConfig]:
    return [
        WebhookConfig(
            name=p,
            platform=p,
            room="!room:example.org" if p == "matrix" else "",
            url=receivers.hook_url(p),
            token=MATRIX_TOKEN if p == "matrix" else "",
            secret=GENERIC_SECRET if p == "generic" else "",
        )
        for p in PLATFORMS
    ]


@pytest.fixture
def receivers() -> Iterator[WebhookReceivers]:
    server = WebhookReceivers().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def sender(
    redis_client: aioredis.Redis, keys: Keys, receivers: WebhookReceivers
) -> AsyncIterator[WebhookSender]:
    store = SubscriptionStore(redis_client, keys)
    for hook in hooks_for(receivers):
        await store.put(Subscription(target=hook.target, chat_type="webhook"))
    notes: list[str] = []

    async def notify(text: str) -> None:
        notes.append(text)

    s = WebhookSender(
        redis_client,
        keys,
        hooks_for(receivers),
        DELIVERY,
        settings=WebhookSenderSettings(consumer="test", pacing=False),
        owners_notify=notify,
    )
    s.notes = notes  # type: ignore[attr-defined]
    try:
        yield s
    finally:
        await s.aclose()


async def fan_out(client: aioredis.Redis, keys: Keys, *entries: DigestEntry) -> None:
    outbox = Outbox(client, keys, SubscriptionStore(client, keys), platforms=("webhook",))
    for e in entries:
        await outbox.fan_out(e, "Continental Wire", NOW)


async def test_every_platform_gets_the_digest_once(
    sender: WebhookSender, receivers: WebhookReceivers, redis_client: aioredis.Redis, keys: Keys
) -> None:
    await fan_out(redis_client, keys, entry(1))
    assert await redis_client.xlen(keys.outbox_stream()) == 0  # Telegram's stream untouched
    assert await sender.drain_once() == len(PLATFORMS)
    for platform in PLATFORMS:
        got = receivers.all(platform)
        assert [r.status for r in got] in ([200], [202], [204]), (platform, got)
        assert not got[0].problem
    assert receivers.all("discord")[0].query["wait"] == ["true"]
    generic = receivers.all("generic")[0]
    assert generic.body["entries"][0]["story_id"] == "s1"
    assert "Harbour strike day 1 &lt;&amp;&gt;" in json.dumps(receivers.all("slack")[0].body)
    # Fan-out again (a retry of the pipeline) and drain again: nothing new is posted.
    await fan_out(redis_client, keys, entry(1))
    assert await sender.drain_once() == 0
    assert sum(len(receivers.all(p)) for p in PLATFORMS) == len(PLATFORMS)
    assert await redis_client.xlen(keys.webhook_stream()) == 0


async def test_a_long_digest_is_split_within_each_platforms_limits(
    sender: WebhookSender, receivers: WebhookReceivers, redis_client: aioredis.Redis, keys: Keys
) -> None:
    big = entry(2, facts=700)
    await fan_out(redis_client, keys, big)
    await sender.drain_once()
    for platform in ("slack", "discord", "mattermost", "teams", "matrix"):
        got = receivers.all(platform)
        assert got and all(200 <= r.status < 300 and not r.problem for r in got), platform
    assert len(receivers.all("discord")) > 10 and len(receivers.all("mattermost")) > 1
    txns = [r.path.rsplit("/", 1)[1] for r in receivers.all("matrix")]
    assert len(set(txns)) == len(txns)


async def test_429_waits_for_retry_after_then_posts_once(
    sender: WebhookSender, receivers: WebhookReceivers, redis_client: aioredis.Redis, keys: Keys
) -> None:
    receivers.script("slack", (429, {"Retry-After": "0.3"}, b"rate_limited"))
    receivers.script("discord", (429, {}, b'{"retry_after": 0.2, "global": false}'))
    receivers.script("matrix", (429, {}, b'{"errcode": "M_LIMIT_EXCEEDED", "retry_after_ms": 200}'))
    await fan_out(redis_client, keys, entry(3))
    await sender.drain_once()
    for platform in ("slack", "discord", "matrix"):
        statuses = [r.status for r in receivers.all(platform)]
        assert statuses == [429, 200], (platform, statuses)
    slack = receivers.all("slack")
    assert sender.stats.retry_after == 3
    assert sender.stats.dead == 0
    assert len(slack) == 2


async def test_404_and_410_deactivate_and_tell_the_owners(
    sender: WebhookSender, receivers: WebhookReceivers, redis_client: aioredis.Redis, keys: Keys
) -> None:
    receivers.script("discord", (404, {}, b'{"message": "Unknown Webhook", "code": 10015}'))
    receivers.script("teams", (410, {}, b""))
    await fan_out(redis_client, keys, entry(4))
    await sender.drain_once()
    store = SubscriptionStore(redis_client, keys)
    for name in ("discord", "teams"):
        sub = await store.get(f"webhook:{name}")
        assert sub is not None and not sub.active and sub.deactivated_reason.startswith("gone")
    assert await redis_client.hexists(keys.deactivations(), "webhook:discord")
    notes = sender.notes  # type: ignore[attr-defined]
    assert any("discord" in n and "deactivated" in n for n in notes)
    assert all(receivers.hook_url("discord") not in n for n in notes)
    dead = await redis_client.xrange(keys.outbox_dead())
    assert {d[b"target"] for _, d in dead} == {b"webhook:discord", b"webhook:teams"}
    # The next digest does not go to the deactivated webhooks at all.
    await fan_out(redis_client, keys, entry(5))
    await sender.drain_once()
    assert len(receivers.all("discord")) == 1 and len(receivers.all("slack")) == 2


async def test_5xx_is_retried_with_backoff_then_dead_lettered(
    sender: WebhookSender, receivers: WebhookReceivers, redis_client: aioredis.Redis, keys: Keys
) -> None:
    receivers.script("mattermost", (500, {}, b"oops"))
    receivers.script("discord", (400, {}, b"[" * 100_000))  # JSON too deep to parse
    huge = b"[" * 5_000_000  # an answer far beyond what the sender reads of it
    receivers.script("generic", *[(503, {}, huge)] * 3)
    await fan_out(redis_client, keys, entry(6))
    await sender.drain_once()
    assert [r.status for r in receivers.all("mattermost")] == [500, 200]
    assert [r.status for r in receivers.all("generic")] == [503, 503, 503]
    dead = {d[b"target"]: d for _, d in await redis_client.xrange(keys.outbox_dead())}
    assert set(dead) == {b"webhook:generic", b"webhook:discord"}
    assert dead[b"webhook:discord"][b"reason"].startswith(b"rejected: HTTP 400")
    assert len(dead[b"webhook:discord"][b"reason"]) < 300
    letter = dead[b"webhook:generic"]
    assert b"after 3 attempts" in letter[b"reason"]
    assert len(letter[b"reason"]) < 300
    assert receivers.hook_url("generic").encode() not in b"".join(letter.values())


async def test_a_restart_mid_digest_posts_no_part_twice(
    redis_client: aioredis.Redis, keys: Keys, receivers: WebhookReceivers
) -> None:
    """The first run posts some parts and dies; the next run posts only the rest."""
    hooks = [h for h in hooks_for(receivers) if h.platform == "discord"]
    store = SubscriptionStore(redis_client, keys)
    await store.put(Subscription(target="webhook:discord", chat_type="webhook"))
    await fan_out(redis_client, keys, entry(7, facts=200))
    # The first run gets a 500 for the second part: it is cancelled while backing off.
    first = WebhookSender(
        redis_client,
        keys,
        hooks,
        WebhookDeliveryConfig(max_attempts=5, backoff_base=30.0, backoff_max=30.0),
        settings=WebhookSenderSettings(consumer="same-name", pacing=False),
    )
    # Part 0 goes through, part 1 fails with 500, and the sender waits 15-30 s to retry.
    original = receivers._answer
    calls = {"n": 0}

    def flaky(*args: object) -> tuple[int, object, dict[str, str], str]:
        calls["n"] += 1
        if calls["n"] == 2:
            return 500, {"error": "down"}, {}, "scripted 500"
        return original(*args)  # type: ignore[arg-type]

    receivers._answer = flaky  # type: ignore[method-assign]
    task = asyncio.create_task(first.drain_once())
    for _ in range(1500):
        # Cancelled in the backoff wait (the failed part's marker released), not mid-request:
        # a part whose request was in flight keeps its lease, as it may have been posted.
        if first.stats.retried >= 1 or task.done():
            break
        await asyncio.sleep(0.02)
    assert not task.done(), task.exception() if not task.cancelled() else "cancelled"
    assert first.stats.retried == 1, f"never reached the backoff wait ({calls['n']} requests)"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await first.aclose()
    receivers._answer = original  # type: ignore[method-assign]
    posted_before = [r for r in receivers.all("discord") if r.status == 200]
    assert len(posted_before) == 1
    second = WebhookSender(
        redis_client,
        keys,
        hooks,
        DELIVERY,
        settings=WebhookSenderSettings(consumer="same-name", pacing=False),
    )
    try:
        assert await second.drain_once() == 1
    finally:
        await second.aclose()
    accepted = [json.dumps(r.body) for r in receivers.all("discord") if r.status == 200]
    assert len(accepted) == len(set(accepted)) > 2
    assert second.stats.dead == 0


async def test_posts_to_one_webhook_are_spaced_as_the_platform_asks(
    redis_client: aioredis.Redis, keys: Keys, receivers: WebhookReceivers
) -> None:
    hooks = [h for h in hooks_for(receivers) if h.platform in ("slack", "matrix")]
    store = SubscriptionStore(redis_client, keys)
    for hook in hooks:
        await store.put(Subscription(target=hook.target, chat_type="webhook"))
    await fan_out(redis_client, keys, entry(8), entry(9))
    paced = WebhookSender(
        redis_client, keys, hooks, DELIVERY, settings=WebhookSenderSettings(consumer="paced")
    )
    try:
        await paced.drain_once()
    finally:
        await paced.aclose()
    slack = [r.time for r in receivers.all("slack")]
    matrix = [r.time for r in receivers.all("matrix")]
    assert len(slack) == 2 and slack[1] - slack[0] >= 0.95  # Slack: 1 message/s per webhook
    assert len(matrix) == 2 and matrix[1] - matrix[0] < 0.5  # no pacing asked


async def test_discord_forum_gets_one_thread_per_story(
    redis_client: aioredis.Redis, keys: Keys, receivers: WebhookReceivers
) -> None:
    hook = WebhookConfig(
        name="forum", platform="discord", forum=True, url=receivers.url + "/discord/forum-hook"
    )
    store = SubscriptionStore(redis_client, keys)
    await store.put(Subscription(target=hook.target, chat_type="webhook"))
    sender = WebhookSender(
        redis_client,
        keys,
        [hook],
        DELIVERY,
        settings=WebhookSenderSettings(consumer="forum", pacing=False),
    )
    try:
        await fan_out(redis_client, keys, entry(10, facts=150))  # several parts
        await sender.drain_once()
        update = replace(entry(10, facts=1), status="update")  # the same story, later
        await fan_out(redis_client, keys, update, entry(11))
        await sender.drain_once()
    finally:
        await sender.aclose()
    got = receivers.all("discord")
    assert got and all(r.status == 200 for r in got), [r.problem for r in got]
    assert list(receivers.discord_threads) == [
        "Harbour strike day 10 <&>",
        "Harbour strike day 11 <&>",
    ]
    first, second = receivers.discord_threads.values()
    story_10 = [r for r in got if r.query.get("thread_id") == [first]]
    assert len(story_10) == len(got) - 2  # all but the two thread-creating posts
    assert [r for r in got if r.body.get("thread_name")][1].query.get("thread_id") is None
    assert second not in {q for r in got for q in r.query.get("thread_id", [])}


async def test_configured_webhooks_get_subscriptions_and_removed_ones_stop(
    redis_client: aioredis.Redis, keys: Keys
) -> None:
    store = SubscriptionStore(redis_client, keys)
    await store.put(Subscription(target="webhook:gone", chat_type="webhook"))
    await store.put(Subscription(target="telegram:5"))
    hooks = [WebhookConfig(name="kept", platform="slack", language="de", feeds=("Wire",))]
    assert await ensure_subscriptions(store, hooks) == 1
    assert await ensure_subscriptions(store, hooks) == 0
    kept = await store.get("webhook:kept")
    assert kept is not None and kept.active and kept.language == "de" and kept.feeds == ("Wire",)
    gone = await store.get("webhook:gone")
    assert gone is not None and not gone.active and gone.deactivated_reason == "not configured"
    telegram = await store.get("telegram:5")
    assert telegram is not None and telegram.active


async def test_a_webhook_url_into_the_private_net_is_refused_and_dead_lettered(
    sender: WebhookSender, receivers: WebhookReceivers, redis_client: aioredis.Redis, keys: Keys
) -> None:
    sender.guard = NetGuard()  # the default guard: the receivers live on loopback
    await fan_out(redis_client, keys, entry(1))
    await sender.drain_once()
    assert all(receivers.all(platform) == [] for platform in PLATFORMS)
    letters = [fields for _id, fields in await redis_client.xrange(keys.outbox_dead())]
    assert len(letters) == len(PLATFORMS)
    assert all(f[b"reason"].startswith(b"refused: ") for f in letters)


async def test_a_worker_that_lost_its_cancel_is_stopped_all_the_same(
    sender: WebhookSender, redis_client: aioredis.Redis, keys: Keys
) -> None:
    """On Python 3.11 a cancel can be lost on its way through a worker: redis-py writes
    under ``asyncio.wait_for``, which swallows a cancel arriving as the write completes
    (CPython gh-86296). A stopped sender must stop its workers all the same."""
    started = asyncio.Event()
    went_on: list[str] = []

    async def handle(msg_id: str, fields: dict[str, str]) -> None:
        started.set()
        # A Redis write, say, which the cancel reaches and is lost in, as in wait_for.
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(3600)
        await asyncio.sleep(3600)  # the backoff wait that follows, then the next post
        went_on.append(msg_id)

    sender.queues.handle = handle
    await fan_out(redis_client, keys, entry(1))
    task = asyncio.create_task(sender.drain_once())
    await asyncio.wait_for(started.wait(), 10)
    task.cancel()
    await asyncio.wait({task}, timeout=10)
    assert task.cancelled(), "the sender still waits for a worker that was told to stop"
    assert went_on == []
