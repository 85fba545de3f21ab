"""Telegram's flood limits, shaped before sending: token buckets shared through Redis.

Telegram answers 429 when a bot sends more than about 30 messages a second
overall, one a second to one chat, or 20 a minute to one group or channel. We
never want to learn the limits from 429s (a 429 may pause the whole bot), so
every send first asks :meth:`RateLimiter.acquire`, which runs one Lua script
that checks the pauses, the chat's bucket, the group's bucket and the global
bucket and takes a token from each ("go"), or answers "wait N ms" without
taking any. The decision is made the instant before the request leaves.

The buckets are GCRA (the "virtual scheduling" form of a token bucket): one
number per bucket, the theoretical arrival time of the next token, read from
Redis's own clock (``TIME``). Because the state and the clock live in Redis,
the limits hold across any number of sender processes.

Rates are aimed a little below the published limits (``headroom``): Telegram
counts messages by their arrival, and the time between our "go" and the
server's accounting varies by some milliseconds, so shaping at exactly 30/s
would let 31 arrive within some second now and then. At 5 % headroom (28.5/s)
the arrivals may be late by up to ~50 ms, minus ``catch_up_ms``, relative to
each other before a one-second window could hold 31. (Booking slots ahead and
sleeping until them was tried: it keeps the rate exact, but a task that wakes
late then lands right next to the following slot's message — with the
emulator in the same process, 0.6 ms apart — and the window overflows.)

Within one process, only one task at a time waits for the global bucket (an
asyncio lock), so hundreds of queued sends do not poll Redis in a herd; a task
whose chat is the binding limit leaves the queue and sleeps on its own.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass
from typing import Literal

import redis.asyncio as aioredis

from bot.keys import Keys

log = logging.getLogger(__name__)

Verdict = Literal["go", "global", "chat"]

_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local p = redis.call('PTTL', KEYS[1])
if p > 0 then return {1, p} end
p = redis.call('PTTL', KEYS[2])
if p > 0 then return {2, p} end
-- bucket i (1 global, 2 chat, 3 group): KEYS[2 + i]; ARGV[2i - 1] emission interval
-- in ms (0: the bucket does not apply), ARGV[2i] tolerance in ms (burst - 1 intervals)
local tats, waits = {}, {0, 0, 0}
for i = 1, 3 do
  if tonumber(ARGV[2 * i - 1]) > 0 then
    local v = tonumber(redis.call('GET', KEYS[2 + i]) or '0') or 0
    if v < now then v = now end
    tats[i] = v
    waits[i] = v - tonumber(ARGV[2 * i]) - now
  end
end
-- The chat's buckets answer first: a task that must wait for its chat anyway
-- should neither hold the queue for the global bucket nor take a global token.
local chat = math.max(waits[2], waits[3])
if chat > 0 then return {2, math.ceil(chat)} end
if waits[1] > 0 then return {1, math.ceil(waits[1])} end
for i = 1, 3 do
  local interval = tonumber(ARGV[2 * i - 1])
  if interval > 0 then
    local nxt = tats[i] + interval
    redis.call('SET', KEYS[2 + i], string.format('%.3f', nxt),
               'PX', math.ceil(nxt - now) + 1000)
  end
end
return {0, 0}
"""

_PENALIZE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ms = tonumber(ARGV[1])
if redis.call('PTTL', KEYS[1]) < ms then redis.call('SET', KEYS[1], '1', 'PX', ms) end
redis.call('ZADD', KEYS[3], now, ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - tonumber(ARGV[4]))
redis.call('PEXPIRE', KEYS[3], tonumber(ARGV[4]))
if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[3]) then
  if redis.call('PTTL', KEYS[2]) < ms then redis.call('SET', KEYS[2], '1', 'PX', ms) end
  return 1
end
return 0
"""


@dataclass(frozen=True, slots=True)
class Limits:
    """Flood limits. Bursts are 1 by default: with a burst ``b`` a bucket lets ``b - 1``
    more messages through at once, which Telegram's sliding windows may not forgive."""

    global_per_second: float = 30.0
    per_chat_per_second: float = 1.0
    per_group_per_minute: float = 20.0
    chat_burst: int = 1
    group_burst: int = 1
    # Fraction below each limit we aim at; see the module docstring.
    headroom: float = 0.05
    # How far a sender that woke up late may catch up on the global schedule: the
    # global bucket's tolerance. Without it every late wake-up is lost throughput;
    # with it a window of one second may hold ``catch_up_ms`` worth of extra sends.
    catch_up_ms: int = 10
    # 429s from this many different chats within ``global_429_window_ms`` mean the
    # bot as a whole is limited (Telegram does not say which limit a 429 is for).
    global_429_chats: int = 3
    global_429_window_ms: int = 1000

    def interval_ms(self, per_second: float) -> float:
        return 1000.0 / (per_second * (1.0 - self.headroom))

    def scaled(self, factor: float) -> Limits:
        """The same limits ``factor`` times faster (short tests against a faster emulator)."""
        return Limits(
            global_per_second=self.global_per_second * factor,
            per_chat_per_second=self.per_chat_per_second * factor,
            per_group_per_minute=self.per_group_per_minute * factor,
            chat_burst=self.chat_burst,
            group_burst=self.group_burst,
            headroom=self.headroom,
            catch_up_ms=self.catch_up_ms,
            global_429_chats=self.global_429_chats,
            global_429_window_ms=self.global_429_window_ms,
        )


def is_group(chat_type: str, chat_id: int) -> bool:
    """Whether the per-group limit applies: groups, supergroups and channels."""
    if chat_type == "private":
        return False
    if chat_type in ("group", "supergroup", "channel"):
        return True
    return chat_id < 0  # unknown type: Telegram's group and channel ids are negative


class RateLimiter:
    """Shared token buckets; :meth:`acquire` before every message sent or edited."""

    def __init__(self, client: aioredis.Redis, keys: Keys, limits: Limits | None = None) -> None:
        self.client = client
        self.keys = keys
        self.limits = limits or Limits()
        self._acquire = client.register_script(_ACQUIRE)
        self._penalize = client.register_script(_PENALIZE)
        self._global_queue = asyncio.Lock()
        lim = self.limits
        self._global = lim.interval_ms(lim.global_per_second)
        self._chat = lim.interval_ms(lim.per_chat_per_second)
        self._group = lim.interval_ms(lim.per_group_per_minute / 60.0)
        self._global_tolerance = float(lim.catch_up_ms)
        self._chat_tolerance = (lim.chat_burst - 1) * self._chat
        self._group_tolerance = (lim.group_burst - 1) * self._group

    async def try_acquire(self, chat_id: int, group: bool) -> tuple[Verdict, float]:
        """Take a token from every bucket of the chat ("go"), or say which bucket makes it
        wait how long in seconds ("global", "chat")."""
        keys = self.keys
        code, wait_ms = await self._acquire(
            keys=[
                keys.pause_global(),
                keys.pause_chat(chat_id),
                keys.rate_global(),
                keys.rate_chat(chat_id),
                keys.rate_group(chat_id),
            ],
            args=[
                f"{self._global:.3f}",
                f"{self._global_tolerance:.3f}",
                f"{self._chat:.3f}",
                f"{self._chat_tolerance:.3f}",
                f"{self._group:.3f}" if group else "0",
                f"{self._group_tolerance:.3f}",
            ],
        )
        verdicts: tuple[Verdict, ...] = ("go", "global", "chat")
        return verdicts[int(code)], int(wait_ms) / 1000.0

    async def acquire(self, chat_id: int, group: bool) -> float:
        """Wait until a message to ``chat_id`` may be sent; the seconds waited."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        while True:
            async with self._global_queue:
                while True:
                    verdict, wait = await self.try_acquire(chat_id, group)
                    if verdict == "go":
                        return loop.time() - started
                    if verdict == "chat":
                        break
                    await asyncio.sleep(wait)
            await asyncio.sleep(wait)

    async def penalize(self, chat_id: int, retry_after: float) -> bool:
        """Pause the chat after a 429; True when 429s from several chats made it global."""
        ms = max(1, math.ceil(retry_after * 1000))
        escalated = await self._penalize(
            keys=[self.keys.pause_chat(chat_id), self.keys.pause_global(), self.keys.recent_429s()],
            args=[ms, str(chat_id), self.limits.global_429_chats, self.limits.global_429_window_ms],
        )
        if escalated:
            log.warning("429s from several chats: pausing all sends for %.1f s", retry_after)
        return bool(escalated)

    async def pause_all(self, seconds: float) -> None:
        """A global pause, e.g. after a 429 known to concern the whole bot."""
        await self.client.set(self.keys.pause_global(), "1", px=max(1, math.ceil(seconds * 1000)))
