"""Command limits: a per-sender budget shared through Redis, and overlong commands refused."""

from __future__ import annotations

import redis.asyncio as aioredis

from bot.command_limit import CommandRateLimiter
from bot.commands import MAX_COMMAND_CHARS
from bot.keys import Keys
from bot.subscription_store import telegram_target
from tests.bot.test_commands import ALICE, ANNA, BotFactory
from tests.bot.test_commands import start_bot as start_bot  # the fixture, re-exported


async def test_the_budget_is_per_sender_and_shared_by_processes(
    redis_client: aioredis.Redis, keys: Keys
) -> None:
    # Two limiters on one Redis stand for two processes serving commands.
    a = CommandRateLimiter(redis_client, keys, per_minute=3)
    b = CommandRateLimiter(redis_client, keys, per_minute=3)
    assert [await a.hit(7), await b.hit(7), await a.hit(7)] == ["ok", "ok", "ok"]
    assert await b.hit(7) == "note"  # one polite note ...
    assert [await a.hit(7), await b.hit(7)] == ["drop", "drop"]  # ... then silence
    assert await a.hit(8) == "ok"  # nobody else is held up
    # The state expires by itself once the sender is idle (no key lives for ever).
    assert 0 < await redis_client.pttl(keys.command_rate(7)) <= 60_000
    assert 0 < await redis_client.pttl(keys.command_noted(7)) <= 60_000


async def test_an_overlong_command_is_refused_and_changes_nothing(start_bot: BotFactory) -> None:
    async with start_bot() as bot:
        await bot.say(ALICE, ALICE, "/subscribe")
        before = await bot.sub(telegram_target(ALICE))
        long_filter = "/filter +" + "x" * MAX_COMMAND_CHARS
        assert await bot.say(ALICE, ALICE, long_filter) == (
            "That command is too long. Please shorten it."
        )
        assert await bot.sub(telegram_target(ALICE)) == before
        assert "zu lang" in await bot.say(ANNA, ANNA, "/why " + "y" * MAX_COMMAND_CHARS)
        # Within the limit, the same command works as usual.
        assert "+/x{2}/" in await bot.say(ALICE, ALICE, "/filter +/x{2}/")
