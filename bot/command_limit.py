"""The per-sender command limit, shared by every process through Redis.

A stranger can send the bot commands as fast as Telegram (or a chat platform's
slash commands) lets them, and some commands cost real work (``/digest``,
``/stories``, ``/why``). Each sender gets a bucket of ``per_minute`` commands
that refills evenly over a minute (GCRA, like the send limits in
:mod:`bot.ratelimit`, with Redis ``TIME`` as the clock), so bursts up to the
limit pass and a flood does not. The first refused command gets one polite
note; the rest are dropped silently until the bucket has room again, so the
bot never answers a flood with a flood. The state lives in Redis, so the
limit holds however many processes serve commands.
"""

from __future__ import annotations

import logging
from typing import Literal

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from bot.keys import Keys

log = logging.getLogger(__name__)

Verdict = Literal["ok", "note", "drop"]

# KEYS: 1 the bucket's theoretical arrival time (ms), 2 "noted" marker.
# ARGV: 1 emission interval ms, 2 burst tolerance ms. Returns 0 ok, 1 note, 2 drop.
_HIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval, tolerance = tonumber(ARGV[1]), tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if tat < now then tat = now end
local wait = tat - tolerance - now
if wait <= 0 then
  local nxt = tat + interval
  redis.call('SET', KEYS[1], string.format('%d', nxt), 'PX', math.max(1, nxt - now))
  return 0
end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', math.max(1, wait)) then return 1 end
return 2
"""


class CommandRateLimiter:
    """``await hit(sender)``: "ok" (go ahead), "note" (refuse politely) or "drop" (ignore)."""

    def __init__(self, client: aioredis.Redis, keys: Keys, per_minute: int) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.client = client
        self.keys = keys
        self.per_minute = per_minute
        self.interval_ms = 60_000 // per_minute
        # A full bucket takes per_minute commands at once.
        self.tolerance_ms = self.interval_ms * (per_minute - 1)
        self._script = client.register_script(_HIT)

    async def hit(self, sender: int | str) -> Verdict:
        try:
            code = await self._script(
                keys=[self.keys.command_rate(sender), self.keys.command_noted(sender)],
                args=[self.interval_ms, self.tolerance_ms],
            )
        except RedisError as exc:
            # Without Redis the commands fail anyway; the limit must not be what breaks them.
            log.warning("command limit unavailable, letting the command through: %s", exc)
            return "ok"
        return ("ok", "note", "drop")[int(code)]


__all__ = ["CommandRateLimiter", "Verdict"]
