"""The outbox: digest entries fanned out to subscriptions, scheduled digests flushed.

Delivery is split in two so that a crash never loses or doubles a digest:

* :meth:`Outbox.fan_out` stores an entry once (``P:entry:<id>``) and, for every
  subscription that wants it, either adds an outbox message to the stream
  (instant mode) or appends the entry id to the target's pending list
  (interval/daily mode, or instant mode during quiet hours). Each (target,
  entry) pair is queued by one Lua script that first sets a ``SET NX`` marker,
  so running fan-out again for the same entry (a retry, a second worker) queues
  nothing twice, and the marker and the enqueue can't be separated by a crash.
* :meth:`Outbox.flush_due` (leader only, behind a Redis lease) moves up to
  ``max_stories`` pending entries of every due subscription into one outbox
  message, atomically (one script: read, XADD, trim, record the time).

Senders (``bot.telegram_sender``) read the stream through a consumer group;
``webhook:`` targets go to a stream of their own (``bot.webhook_sender``).
An outbox message is ``{target, entries: JSON list of entry ids, digest_id}``;
``digest_id`` is a hash of the target and the entry ids, so the same digest
always has the same id, which is what the sender's exactly-once markers use.

The stream is capped approximately (``MAXLEN ~``) only as a guard against a
sender that is down for a long time: senders delete messages once delivered,
so the cap is reached only by a backlog that large, and the oldest undelivered
messages are then lost (counted as ``trimmed`` by the sender).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import NoScriptError

from bot import leases
from bot.keys import Keys
from bot.subscription_store import SubscriptionStore
from digests.models import DigestEntry, FactOut, SourceRef
from digests.subscriptions import (
    Subscription,
    in_quiet_hours,
    is_due,
    passes_filters,
    wants_feed,
)

log = logging.getLogger(__name__)

ENTRY_TTL_S = 9 * 24 * 3600  # longer than the longest interval (7 days) plus slack
STREAM_MAXLEN = 100_000
PENDING_CAP = 1_000
LEASE_MS = 30_000

_FAN_OUT = """
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[2]) then return 0 end
if ARGV[3] == 'stream' then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[6], '*',
             'target', ARGV[4], 'entries', ARGV[7], 'digest_id', ARGV[5])
  return 1
end
redis.call('RPUSH', KEYS[3], ARGV[1])
redis.call('LTRIM', KEYS[3], -tonumber(ARGV[8]), -1)
redis.call('EXPIRE', KEYS[3], ARGV[2])
return 2
"""

# digest_id here must equal digest_id() below: sha1 of "target|id1,id2,...", 20 hex digits.
_FLUSH = """
local last = redis.call('HGET', KEYS[3], ARGV[1]) or ''
if last ~= ARGV[4] then return -1 end
local ids = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1)
if #ids == 0 then
  if ARGV[6] == '1' then redis.call('HSET', KEYS[3], ARGV[1], ARGV[3]) end
  return 0
end
local digest = string.sub(redis.sha1hex(ARGV[1] .. '|' .. table.concat(ids, ',')), 1, 20)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], '*',
           'target', ARGV[1], 'entries', cjson.encode(ids), 'digest_id', digest)
redis.call('LTRIM', KEYS[1], #ids, -1)
redis.call('HSET', KEYS[3], ARGV[1], ARGV[3])
return #ids
"""

_MOVE = """
local moved = 0
while true do
  local ids = redis.call('LRANGE', KEYS[1], 0, 499)
  if #ids == 0 then break end
  redis.call('RPUSH', KEYS[2], unpack(ids))
  redis.call('LTRIM', KEYS[1], #ids, -1)
  moved = moved + #ids
end
if moved > 0 then redis.call('EXPIRE', KEYS[2], ARGV[3]) end
local last = redis.call('HGET', KEYS[3], ARGV[1])
if last then
  redis.call('HSET', KEYS[3], ARGV[2], last)
  redis.call('HDEL', KEYS[3], ARGV[1])
end
return moved
"""


# -- entries -------------------------------------------------------------------------------


def entry_to_dict(entry: DigestEntry) -> dict[str, Any]:
    """What ``dataclasses.asdict`` gives, field by field: this runs for every article and
    the generic walk costs more than the rest of the record."""
    return {
        "story_id": entry.story_id,
        "title": entry.title,
        "status": entry.status,
        "language": entry.language,
        "facts": [fact_to_dict(f) for f in entry.facts],
        "sources": [ref_to_dict(s) for s in entry.sources],
        "also_reported_by": [ref_to_dict(s) for s in entry.also_reported_by],
        "article_count": entry.article_count,
        "omitted_facts": entry.omitted_facts,
    }


def fact_to_dict(fact: FactOut) -> dict[str, Any]:
    return {
        "type": fact.type,
        "text": fact.text,
        "sentence": fact.sentence,
        "sources": tuple(ref_to_dict(s) for s in fact.sources),
        "importance": fact.importance,
    }


def ref_to_dict(ref: SourceRef) -> dict[str, str]:
    return {"name": ref.name, "url": ref.url}


def ref_from_dict(d: dict[str, Any]) -> SourceRef:
    return SourceRef(d["name"], d["url"])


def fact_from_dict(f: dict[str, Any]) -> FactOut:
    return FactOut(
        type=f["type"],
        text=f["text"],
        sentence=f["sentence"],
        sources=tuple(ref_from_dict(s) for s in f.get("sources", ())),
        importance=f.get("importance", 0.0),
    )


def entry_from_dict(data: dict[str, Any]) -> DigestEntry:
    return DigestEntry(
        story_id=data["story_id"],
        title=data["title"],
        status=data["status"],
        language=data["language"],
        facts=[fact_from_dict(f) for f in data.get("facts", ())],
        sources=[ref_from_dict(s) for s in data.get("sources", ())],
        also_reported_by=[ref_from_dict(s) for s in data.get("also_reported_by", ())],
        article_count=data.get("article_count", 1),
        omitted_facts=data.get("omitted_facts", 0),
    )


def entry_id(entry: DigestEntry) -> str:
    """A stable id from the entry's content: the same entry always gets the same id."""
    canonical = json.dumps(entry_to_dict(entry), sort_keys=True, ensure_ascii=False)
    return hashlib.blake2b(canonical.encode(), digest_size=10).hexdigest()


def digest_id(target: str, entry_ids: Sequence[str]) -> str:
    """The id of the digest of ``entry_ids`` for ``target`` (the flush script computes it too)."""
    return hashlib.sha1(f"{target}|{','.join(entry_ids)}".encode()).hexdigest()[:20]


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class FanOutReport:
    """What one fan-out did: targets queued now, held for a schedule, already queued before."""

    entry_id: str
    instant: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)


class Outbox:
    """Fan-out and the scheduler. ``platforms``: target prefixes this outbox queues for."""

    def __init__(
        self,
        client: aioredis.Redis,
        keys: Keys,
        store: SubscriptionStore,
        *,
        platforms: Iterable[str] = ("telegram",),
        entry_ttl_s: int = ENTRY_TTL_S,
        stream_maxlen: int = STREAM_MAXLEN,
        pending_cap: int = PENDING_CAP,
        lease_ms: int = LEASE_MS,
        owner: str | None = None,
    ) -> None:
        self.client = client
        self.keys = keys
        self.store = store
        self.platforms = tuple(f"{p}:" for p in platforms)
        self.entry_ttl_s = entry_ttl_s
        self.stream_maxlen = stream_maxlen
        self.pending_cap = pending_cap
        self.lease_ms = lease_ms
        self.owner = owner or uuid.uuid4().hex
        self._fan_out = client.register_script(_FAN_OUT)
        self._flush = client.register_script(_FLUSH)
        self._move = client.register_script(_MOVE)

    # -- fan-out --------------------------------------------------------------------------

    def _wants(self, sub: Subscription, entry: DigestEntry, feed: str) -> bool:
        return (
            sub.active
            and not sub.paused
            and sub.target.startswith(self.platforms)
            and wants_feed(sub, feed)
            and passes_filters(sub, entry)
        )

    async def fan_out(self, entry: DigestEntry, feed: str, now: datetime) -> FanOutReport:
        """Queue ``entry`` (from ``feed``) for every subscription that wants it; idempotent."""
        eid = entry_id(entry)
        report = FanOutReport(eid)
        subs = [s for s in await self.store.all(active_only=True) if self._wants(s, entry, feed)]
        if not subs:
            return report
        # The entry is stored before any message names it, so a sender never finds an
        # id without its entry (but may find an expired one, which it skips).
        await self.client.set(
            self.keys.entry(eid),
            json.dumps(entry_to_dict(entry), ensure_ascii=False),
            ex=self.entry_ttl_s,
        )
        calls: list[list[Any]] = []
        for sub in subs:
            instant = sub.mode == "instant" and not in_quiet_hours(sub, now)
            fan_keys = [
                self.keys.outbox_fanned(sub.target, eid),
                self.keys.outbox_stream_for(sub.target),
                self.keys.outbox_pending(sub.target),
            ]
            calls.append(
                [
                    len(fan_keys),
                    *fan_keys,
                    eid,
                    self.entry_ttl_s,
                    "stream" if instant else "pending",
                    sub.target,
                    digest_id(sub.target, [eid]),
                    self.stream_maxlen,
                    json.dumps([eid]),
                    self.pending_cap,
                ]
            )
        results = await self._run_fan_out(calls)
        for sub, result in zip(subs, results, strict=True):
            if result == 0:
                report.already.append(sub.target)
            elif result == 1:
                report.instant.append(sub.target)
            else:
                report.held.append(sub.target)
        return report

    async def _run_fan_out(self, calls: list[list[Any]]) -> list[Any]:
        """The fan-out script once per call, all in one round trip.

        EVALSHA as a raw command: a Script object in a pipeline costs an extra SCRIPT
        EXISTS round trip, and redis-py's cluster pipeline refuses evalsha() (each
        call's keys share one slot, which is all a cluster needs). The script is
        idempotent per (target, entry), so calls redone after a NOSCRIPT are safe.
        """
        sha = self._fan_out.sha
        pipe = self.client.pipeline(transaction=False)
        for call in calls:
            pipe.execute_command("EVALSHA", sha, *call)
        results: list[Any] = await pipe.execute(raise_on_error=False)
        if any(isinstance(r, NoScriptError) for r in results):
            await self.client.script_load(_FAN_OUT)
            for i, call in enumerate(calls):
                if isinstance(results[i], NoScriptError):
                    results[i] = await self.client.evalsha(sha, *call)
        for result in results:
            if isinstance(result, Exception):
                raise result
        return results

    # -- the scheduler ----------------------------------------------------------------------

    async def lease(self) -> bool:
        """Take or renew the scheduler lease; True while this outbox is the leader."""
        return await leases.take(self.client, self.keys.outbox_leader(), self.owner, self.lease_ms)

    async def release_lease(self) -> None:
        await leases.release(self.client, self.keys.outbox_leader(), self.owner)

    async def flush_due(self, now: datetime) -> int | None:
        """Queue the digests that are due at ``now``; their count, or None when not the leader.

        Interval and daily subscriptions are due by their schedule (an empty slot
        still counts as one, so a daily digest collects until the next day's time);
        instant subscriptions are flushed when entries held by quiet hours wait.
        """
        if not await self.lease():
            return None
        subs = [s for s in await self.store.all(active_only=True) if not s.paused]
        subs = [s for s in subs if s.target.startswith(self.platforms)]
        if not subs:
            return 0
        last_raw = {
            _text(k): _text(v)
            for k, v in (await self.client.hgetall(self.keys.outbox_last_sent())).items()
        }
        pipe = self.client.pipeline(transaction=False)
        for sub in subs:
            pipe.llen(self.keys.outbox_pending(sub.target))
        lengths = await pipe.execute()
        flushed = 0
        for sub, waiting in zip(subs, lengths, strict=True):
            scheduled = sub.mode != "instant"
            if not waiting and not scheduled:
                continue
            raw = last_raw.get(sub.target, "")
            last = datetime.fromtimestamp(int(raw) / 1000, UTC) if raw else None
            if not is_due(sub, last, now):
                continue
            moved = await self._flush(
                keys=[
                    self.keys.outbox_pending(sub.target),
                    self.keys.outbox_stream_for(sub.target),
                    self.keys.outbox_last_sent(),
                ],
                args=[
                    sub.target,
                    sub.max_stories,
                    _ms(now),
                    raw,
                    self.stream_maxlen,
                    "1" if scheduled else "0",
                ],
            )
            if moved > 0:
                flushed += 1
            elif moved < 0:
                log.info("flush of %s skipped: another scheduler moved it", sub.target)
        return flushed

    async def flush_now(self, target: str, now: datetime) -> int:
        """``/digest``: queue what ``target`` has pending at once, whatever its schedule.

        Returns the number of entries queued (0 when nothing waits).
        """
        sub = await self.store.get(target)
        if sub is None or not sub.active:
            return 0
        waiting = int(await self.client.llen(self.keys.outbox_pending(target)))
        if not waiting:
            return 0
        raw = await self.client.hget(self.keys.outbox_last_sent(), target)
        moved = await self._flush(
            keys=[
                self.keys.outbox_pending(target),
                self.keys.outbox_stream_for(target),
                self.keys.outbox_last_sent(),
            ],
            args=[
                target,
                sub.max_stories,
                _ms(now),
                _text(raw) if raw else "",
                self.stream_maxlen,
                "0",
            ],
        )
        return min(waiting, sub.max_stories) if moved > 0 else 0

    async def run_scheduler(
        self,
        stop: asyncio.Event,
        every_s: float = 10.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        """:meth:`flush_due` every ``every_s`` until ``stop``; gives the lease up at the end."""
        try:
            while not stop.is_set():
                try:
                    await self.flush_due(clock())
                except aioredis.RedisError as exc:
                    log.warning("scheduler: %s", exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), every_s)
        finally:
            await self.release_lease()

    # -- reading ---------------------------------------------------------------------------

    async def pending(self, target: str) -> list[str]:
        ids = await self.client.lrange(self.keys.outbox_pending(target), 0, -1)
        return [_text(i) for i in ids]

    async def load_entries(self, ids: Sequence[str]) -> list[DigestEntry | None]:
        """The entries of ``ids`` in order; None for expired ones."""
        return await load_entries(self.client, self.keys, ids)

    async def move_target(self, old: str, new: str) -> int:
        """Move pending entries and the schedule of ``old`` to ``new`` (chat migration)."""
        return await move_target(self.client, self.keys, old, new, self.entry_ttl_s)


async def load_entries(
    client: aioredis.Redis, keys: Keys, ids: Sequence[str]
) -> list[DigestEntry | None]:
    if not ids:
        return []
    raw = await client.mget([keys.entry(i) for i in ids])
    return [entry_from_dict(json.loads(r)) if r else None for r in raw]


async def move_target(
    client: aioredis.Redis, keys: Keys, old: str, new: str, ttl_s: int = ENTRY_TTL_S
) -> int:
    script = client.register_script(_MOVE)
    moved = await script(
        keys=[keys.outbox_pending(old), keys.outbox_pending(new), keys.outbox_last_sent()],
        args=[old, new, ttl_s],
    )
    return int(moved)
