"""Commands from other platforms, in the webhook's language, on a real Redis."""

from __future__ import annotations

import redis.asyncio as aioredis

from bot.chat_commands import TEXTS, ChatCommands, CommandRequest, command_text
from bot.config import Config, RedisConfig, WebhookConfig
from bot.keys import Keys
from bot.subscription_store import SubscriptionStore

HOOKS = (
    WebhookConfig(name="redaktion", platform="slack", channel="C-DE", language="de"),
    WebhookConfig(name="newsroom", platform="mattermost", channel="C-EN"),
)


async def test_answers_in_the_webhooks_language(redis_client: aioredis.Redis, keys: Keys) -> None:
    cfg = Config(redis=RedisConfig(prefix=keys.prefix), webhooks=HOOKS)
    queued: list[str] = []

    async def deliver_now(target: str) -> int:
        queued.append(target)
        return 0

    commands = ChatCommands(cfg, redis_client, keys, deliver_now)

    async def ask(platform: str, channel: str, typed: str) -> str:
        return await commands.run(CommandRequest(platform, channel, typed))

    assert await ask("slack", "C-DE", "stories") == "Noch keine Meldungen."
    assert await ask("mattermost", "C-EN", "stories") == "No stories yet."
    assert (await ask("slack", "C-DE", "subscribe")).startswith("Abonniert.")
    sub = await SubscriptionStore(redis_client, keys).get("webhook:redaktion")
    assert sub is not None and sub.active and sub.language == "de"
    assert await ask("slack", "C-DE", "digest") == TEXTS["de"]["digest_nothing"]
    assert queued == ["webhook:redaktion"]
    assert "kein Webhook" not in await ask("slack", "C-OTHER", "subscribe")  # unknown: English
    assert "no webhook configured" in await ask("slack", "C-OTHER", "subscribe")
    assert (await ask("slack", "C-DE", "fly")).startswith("Unbekannter Befehl")
    assert await ask("slack", "C-DE", "") == TEXTS["de"]["help"]
    assert (await ask("slack", "C-DE", "why")).startswith("Aufruf: why")
    assert "Unbekannte Feeds" in await ask("slack", "C-DE", "subscribe Nirgendwo")
    assert set(TEXTS["de"]) == set(TEXTS["en"])


def test_slash_command_names() -> None:
    assert command_text("/digestbot", "stories") == "stories"
    assert command_text("/why", "https://x.example/a") == "why https://x.example/a"
    assert command_text("/Stories", "") == "stories "
    assert command_text("/launch", "now") == "now"
