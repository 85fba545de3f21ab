"""Dead letters: listed, retried (posting only what was not posted) and dropped."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from bot.cli import main
from bot.config import WebhookConfig, WebhookDeliveryConfig
from bot.deadletters import DeadLetters
from bot.keys import Keys
from bot.outbox import Outbox
from bot.subscription_store import SubscriptionStore
from bot.webhook_sender import WebhookSender, WebhookSenderSettings
from digests.models import DigestEntry, FactOut, SourceRef
from digests.subscriptions import Subscription
from tests.webhook_receivers import WebhookReceivers

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def entry(facts: int) -> DigestEntry:
    src = SourceRef("Wire", "https://wire.example/1")
    return DigestEntry(
        story_id="s1",
        title="Harbour strike",
        status="new_story",
        language="en",
        facts=[
            FactOut("statement", f"Fact number {i} about the strike.", "", (src,))
            for i in range(facts)
        ],
        sources=[src],
    )


@pytest.fixture
def receivers() -> Iterator[WebhookReceivers]:
    server = WebhookReceivers().start()
    try:
        yield server
    finally:
        server.stop()


async def test_retry_posts_only_the_parts_not_yet_posted_and_drop_deletes(
    redis_client: aioredis.Redis,
    keys: Keys,
    receivers: WebhookReceivers,
    tmp_path: Path,
    redis_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    hook = WebhookConfig(name="news", platform="discord", url=receivers.hook_url("discord"))
    store = SubscriptionStore(redis_client, keys)
    await store.put(Subscription(target=hook.target, chat_type="webhook"))
    outbox = Outbox(redis_client, keys, store, platforms=("webhook",))
    await outbox.fan_out(entry(150), "Wire", NOW)
    # Part 0 is accepted, part 1 keeps failing: the digest is dead-lettered after 2 attempts.
    receivers.script("discord", (200, {}, b"{}"), (500, {}, b""), (500, {}, b""))
    delivery = WebhookDeliveryConfig(max_attempts=2, backoff_base=0.01, backoff_max=0.02)
    settings = WebhookSenderSettings(consumer="dl-test", pacing=False)
    sender = WebhookSender(redis_client, keys, [hook], delivery, settings=settings)
    try:
        await sender.drain_once()
        letters = DeadLetters(redis_client, keys)
        dead = await letters.oldest()
        assert len(dead) == 1 and dead[0].target == "webhook:news"
        assert "after 2 attempts" in dead[0].reason
        parts_before = len(receivers.all("discord"))

        config = tmp_path / "c.toml"
        config.write_text(f'[redis]\nprefix = "{keys.prefix}"\n')
        env = {**os.environ, "DIGESTBOT_REDIS_URL": redis_url}
        # The command line, in process (a thread: it runs its own event loop).
        monkeypatch.setenv("DIGESTBOT_REDIS_URL", redis_url)
        argv = ["--config", str(config), "deadletters", "list"]
        assert await asyncio.to_thread(main, argv) == 0
        listed = capsys.readouterr().out
        assert dead[0].id in listed and "webhook:news" in listed

        moved = await letters.retry([dead[0].id])
        assert [m.id for m in moved] == [dead[0].id]
        assert await letters.oldest() == []
        await sender.drain_once()
        posted = [r for r in receivers.all("discord")[parts_before:]]
        assert posted and all(r.status == 200 for r in posted)
        # Part 0 was not posted again: every accepted body is different.
        bodies = [str(r.body) for r in receivers.all("discord") if r.status == 200]
        assert len(bodies) == len(set(bodies))
        assert await redis_client.xlen(keys.webhook_stream()) == 0

        # A second failure, dropped from the command line.
        receivers.script("discord", (400, {}, b'{"message": "Invalid Form Body"}'))
        await outbox.fan_out(entry(3), "Wire", NOW)
        await sender.drain_once()
        assert len(await letters.oldest()) == 1
        dropped = subprocess.run(
            [
                sys.executable,
                "-m",
                "bot.cli",
                "--config",
                str(config),
                "deadletters",
                "drop",
                "--all",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=REPO,
            env=env,
        )
        assert dropped.returncode == 0 and "1 dead letters dropped" in dropped.stdout
        assert await letters.oldest() == []
    finally:
        await sender.aclose()
