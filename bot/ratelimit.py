"""Telegram's flood limits, shaped before sending, shared by every sender through Redis.

Telegram answers 429 when a bot sends more than about 30 messages a second
overall, one a second to one chat, or 20 a minute to one group or channel. We
never want to learn the limits from 429s (a 429 may pause the whole bot), so
every send first asks :meth:`RateLimiter.acquire`, which runs one Lua script
that checks the pauses and every limit of the message and either takes its
share of each ("go") or answers "wait N ms" without taking any. The state and
the clock (Redis ``TIME``) live in Redis, so the limits hold across any
number of sender processes.

Per chat and per group: token buckets in GCRA form (one number per bucket,
the theoretical arrival time of the next token), aimed ``headroom`` below the
limit. Their margins are large in absolute terms (5 % of 3 s between two
messages to a group is 150 ms), so send-time jitter never matters there.

Overall, jitter does matter: Telegram counts a message when it *arrives*, and
the time from our "go" to its arrival varies (a few ms usually; tens of ms
now and then on a busy machine — measured up to ~90 ms on loopback). A bucket
at 28.5/s tolerates ~50 ms before 31 messages may land within one second, so
rare 429s remain however the rate is shaped. The global limit is therefore
also a sliding window over *answers*: every message is recorded with the time
Telegram's answer came back (:meth:`RateLimiter.done`; until then, as still
in flight), and a message may go only when fewer than ``global_per_second -
global_slack`` messages were answered within the last second or are in flight.
A message arrives between our "go" and its answer, so for any message the one
decided last among those arriving within a second of it counted all the others
— at most the limit arrive in any second, whatever the delays. The cost is one
request's latency per second of window, not a fixed headroom. A bucket at
``global_per_second`` (no headroom) with ``catch_up_ms`` of tolerance keeps the
sends evenly spread rather than in bursts.

Within one process, only one task at a time waits for the global limit (an
asyncio lock), so hundreds of queued sends do not poll Redis in a herd; a task
whose chat is the binding limit leaves the queue and sleeps on its own.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import uuid
from dataclasses import dataclass, replace
from typing import Literal

import redis.asyncio as aioredis

from bot.keys import Keys

log = logging.getLogger(__name__)

Verdict = Literal["go", "global", "chat"]

# KEYS: 1 global pause, 2 chat pause, 3 global bucket, 4 chat bucket, 5 group bucket,
# 6 window (sorted set: permit id -> ms of its answer, or of "go" + flight while in flight).
# ARGV: 1..6 bucket i's emission interval ms (0: does not apply) and tolerance ms;
# 7 window limit, 8 flight ms, 9 permit id, 10 longest wait to report for the window.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local p = redis.call('PTTL', KEYS[1])
if p > 0 then return {1, p} end
p = redis.call('PTTL', KEYS[2])
if p > 0 then return {2, p} end
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
-- should neither hold the queue for the global limit nor take a global token.
local chat = math.max(waits[2], waits[3])
if chat > 0 then return {2, math.ceil(chat)} end
if waits[1] > 0 then return {1, math.ceil(waits[1])} end
redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf', now - 1000)
if redis.call('ZCARD', KEYS[6]) >= tonumber(ARGV[7]) then
  -- Free when the earliest answer leaves the window; an in-flight one ends sooner
  -- than its provisional time, so look again soon.
  local first = redis.call('ZRANGE', KEYS[6], 0, 0, 'WITHSCORES')
  local w = tonumber(first[2]) + 1000 - now
  return {1, math.max(1, math.min(math.ceil(w), tonumber(ARGV[10])))}
end
for i = 1, 3 do
  local interval = tonumber(ARGV[2 * i - 1])
  if interval > 0 then
    local nxt = tats[i] + interval
    redis.call('SET', KEYS[2 + i], string.format('%.3f', nxt),
               'PX', math.ceil(nxt - now) + 1000)
  end
end
local flight = tonumber(ARGV[8])
redis.call('ZADD', KEYS[6], now + flight, ARGV[9])
redis.call('PEXPIRE', KEYS[6], math.ceil(flight) + 2000)
return {0, 0}
"""

# The answer came (or the attempt ended): the permit counts until a second after now.
_DONE = """
local t = redis.call('TIME')
redis.call('ZADD', KEYS[1], 'XX', tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000, ARGV[1])
return 0
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
    # Fraction below the per-chat and per-group limits we aim at.
    headroom: float = 0.05
    # Messages per second of the global window left unused, in case Telegram counts
    # a little differently from a sliding window (at 30/s: at most 29 a second).
    global_slack: int = 1
    # Tolerance of the global bucket: how far a sender that woke up late may catch
    # up on the even spacing (without it every late wake-up is lost throughput).
    catch_up_ms: int = 10
    # How long a message counts as in flight when no answer is recorded (a sender
    # died mid-request): longer than any request may take.
    flight_ms: int = 60_000
    # 429s from this many different chats within ``global_429_window_ms`` mean the
    # bot as a whole is limited (Telegram does not say which limit a 429 is for).
    global_429_chats: int = 3
    global_429_window_ms: int = 1000

    def interval_ms(self, per_second: float, headroom: float | None = None) -> float:
        room = self.headroom if headroom is None else headroom
        return 1000.0 / (per_second * (1.0 - room))

    @property
    def window_limit(self) -> int:
        return max(1, math.floor(self.global_per_second) - self.global_slack)

    def scaled(self, factor: float) -> Limits:
        """The same limits ``factor`` times faster (short tests against a faster emulator)."""
        return replace(
            self,
            global_per_second=self.global_per_second * factor,
            per_chat_per_second=self.per_chat_per_second * factor,
            per_group_per_minute=self.per_group_per_minute * factor,
        )


@dataclass(frozen=True, slots=True)
class Permit:
    """A "go" from :meth:`RateLimiter.acquire`; hand it to :meth:`RateLimiter.done`."""

    id: str
    waited: float  # seconds


def is_group(chat_type: str, chat_id: int) -> bool:
    """Whether the per-group limit applies: groups, supergroups and channels."""
    if chat_type == "private":
        return False
    if chat_type in ("group", "supergroup", "channel"):
        return True
    return chat_id < 0  # unknown type: Telegram's group and channel ids are negative


class RateLimiter:
    """Shared flood limits: :meth:`acquire` before every message sent or edited,
    :meth:`done` as soon as Telegram answered (or the attempt failed)."""

    def __init__(self, client: aioredis.Redis, keys: Keys, limits: Limits | None = None) -> None:
        self.client = client
        self.keys = keys
        self.limits = limits or Limits()
        self._acquire = client.register_script(_ACQUIRE)
        self._done = client.register_script(_DONE)
        self._penalize = client.register_script(_PENALIZE)
        self._global_queue = asyncio.Lock()
        self._ids = (f"{uuid.uuid4().hex[:10]}:{n}" for n in itertools.count())
        lim = self.limits
        # The window enforces the global limit; the bucket only spreads the sends.
        self._global = lim.interval_ms(lim.global_per_second, headroom=0.0)
        self._chat = lim.interval_ms(lim.per_chat_per_second)
        self._group = lim.interval_ms(lim.per_group_per_minute / 60.0)
        self._global_tolerance = float(lim.catch_up_ms)
        self._chat_tolerance = (lim.chat_burst - 1) * self._chat
        self._group_tolerance = (lim.group_burst - 1) * self._group

    async def try_acquire(
        self, chat_id: int, group: bool, permit_id: str = ""
    ) -> tuple[Verdict, float]:
        """Take the message's share of every limit ("go", recorded as ``permit_id``), or
        say which limit makes it wait how long in seconds ("global", "chat")."""
        keys = self.keys
        lim = self.limits
        code, wait_ms = await self._acquire(
            keys=[
                keys.pause_global(),
                keys.pause_chat(chat_id),
                keys.rate_global(),
                keys.rate_chat(chat_id),
                keys.rate_group(chat_id),
                keys.rate_window(),
            ],
            args=[
                f"{self._global:.3f}",
                f"{self._global_tolerance:.3f}",
                f"{self._chat:.3f}",
                f"{self._chat_tolerance:.3f}",
                f"{self._group:.3f}" if group else "0",
                f"{self._group_tolerance:.3f}",
                lim.window_limit,
                lim.flight_ms,
                permit_id or next(self._ids),
                max(1, math.ceil(self._global)),
            ],
        )
        verdicts: tuple[Verdict, ...] = ("go", "global", "chat")
        return verdicts[int(code)], int(wait_ms) / 1000.0

    async def acquire(self, chat_id: int, group: bool) -> Permit:
        """Wait until a message to ``chat_id`` may be sent."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        permit_id = next(self._ids)
        while True:
            async with self._global_queue:
                while True:
                    verdict, wait = await self.try_acquire(chat_id, group, permit_id)
                    if verdict == "go":
                        return Permit(permit_id, loop.time() - started)
                    if verdict == "chat":
                        break
                    await asyncio.sleep(wait)
            await asyncio.sleep(wait)

    async def done(self, permit: Permit) -> None:
        """Telegram answered (or the request failed): the message counts for one more second."""
        await self._done(keys=[self.keys.rate_window()], args=[permit.id])

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
