"""The Telegram sender: consumes the outbox stream and posts each digest exactly once.

Several sender processes may run at once. They share the outbox stream through
the consumer group ``telegram`` (``XREADGROUP``, one consumer name per process);
a message stays in the group's pending list until every part of its digest is
posted, and ``XAUTOCLAIM`` hands messages idle for longer than
``claim_idle_ms`` (a dead or stuck process's) to a live one. A live process
refreshes the idle time of the messages it holds (``XCLAIM ... JUSTID``), so a
long ``retry_after`` wait is not mistaken for a death.

Exactly once, per (target, digest, part): when a part's turn comes its marker
``P:sent:<digest id>:<part>`` is claimed as ``inflight:<owner>`` (a Lua
check-and-set with a PX lease longer than any request may take), then the
sender waits for the rate limiter and posts; once Telegram accepts the message
the marker becomes ``sent:<message id>``. A part with a ``sent:`` marker is
never posted again; one with another owner's ``inflight:`` marker is left
alone until that lease ends. The claim comes before the limiter so that
nothing stands between the limiter's "go" and the request (see
``bot.ratelimit`` on send-time jitter); a part given up while waiting (a
cancelled task, a 429) is released at once. The message is acknowledged (and
deleted from the stream) only when all its parts are done. The remaining
window: a process killed (SIGKILL, power loss) after Telegram accepted a part
and before the marker write reaches Redis — about a millisecond per message —
leaves an ``inflight:`` marker behind, and the part is posted again when the
lease ends. Telegram has no idempotency key to close it. Likewise a request
that times out after Telegram accepted it (a read timeout, a 5xx from a proxy
after the fact) is retried and may post twice; these are counted as
``retried``. Parts a killed process had claimed but not sent simply wait out
the lease (``inflight_lease_ms``) before another process posts them.

Errors: 429 → the chat (or, when several chats get 429s at once, the whole
bot) is paused for ``retry_after`` in the shared limiter and the part is
retried, without limit; 403 → every subscription of the chat is deactivated
and recorded in ``P:delivery:deactivated``, the message dead-lettered; group
migrated → subscriptions, pending entries and schedule move to the supergroup
and the part is posted there; other 400s → dead letter, no retry; timeouts,
network errors and 5xx → retried with exponential backoff and jitter, then
dead-lettered. Dead letters go to ``P:{P:outbox}:dead`` with the reason and
the original message.

Run ``python -m bot.telegram_sender --help`` for a stand-alone sender process
(the token comes from ``DIGESTBOT_TELEGRAM_TOKEN``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import random
import signal
import socket
import sys
import time
import uuid
import warnings
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import redis.asyncio as aioredis
import telegram
from markupsafe import escape
from redis.exceptions import RedisError, ResponseError
from telegram import LinkPreviewOptions, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.keys import Keys
from bot.outbox import load_entries, move_target
from bot.ratelimit import Limits, RateLimiter, is_group
from bot.subscription_store import SubscriptionStore, parse_telegram_target, telegram_target
from bot.target_queues import TargetQueues
from digests.models import DigestEntry
from digests.render import TELEGRAM_LIMIT, render_messages, telegram_length
from digests.subscriptions import Subscription

log = logging.getLogger(__name__)

GROUP = "telegram"
OwnersNotify = Callable[[str], Awaitable[None]]

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# A part's marker: take it (absent, or ours already: renew), else say who has it.
_CLAIM = """
local v = redis.call('GET', KEYS[1])
if not v or v == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return ARGV[1]
end
return v
"""

# BadRequest descriptions (lower case) that mean the chat is gone for good.
_GONE = ("chat not found", "have no rights to send", "not enough rights to send")
_EDIT_GONE = ("message to edit not found", "message can't be edited")
_NOT_MODIFIED = "message is not modified"
# Dead letters the owners hear about otherwise (the deactivation) or need not hear about.
_QUIET_DEAD = ("forbidden:", "gone:", "subscription inactive", "no subscription")


@dataclass(frozen=True, slots=True)
class SenderSettings:
    """Tuning of one sender process. ``consumer`` defaults to ``<host>-<pid>``."""

    consumer: str = ""
    group: str = GROUP
    batch: int = 64
    max_inflight: int = 512
    redis_concurrency: int = 32
    block_ms: int = 500
    claim_idle_ms: int = 60_000
    claim_every_s: float = 5.0
    # Longer than any request may take: the four request timeouts are a fifth of it each.
    inflight_lease_ms: int = 60_000
    sent_ttl_s: int = 14 * 24 * 3600
    message_map_ttl_s: int = 30 * 24 * 3600
    max_attempts: int = 5
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0
    dead_maxlen: int = 10_000
    stop_grace_s: float = 10.0


@dataclass(slots=True)
class DeliveryStats:
    """Counters of this process (Redis keeps the shared ones in ``P:delivery:stats``)."""

    messages: int = 0  # outbox messages finished (acknowledged after every part)
    sent: int = 0  # parts posted as new messages
    edited: int = 0  # parts posted by editing an earlier message
    skipped: int = 0  # parts already posted by an earlier attempt
    retry_after: int = 0
    retried: int = 0  # timeouts, network errors and 5xx retried
    busy: int = 0  # parts another process was posting: message left for later
    dead: int = 0
    deactivated: int = 0
    migrated: int = 0
    trimmed: int = 0
    # Seconds from XADD to Telegram's acceptance of each part.
    latencies: deque[float] = field(default_factory=lambda: deque(maxlen=100_000))


@dataclass(slots=True)
class Part:
    """One Telegram message of a digest, as :func:`plan_parts` numbers them."""

    html: str
    stories: tuple[str, ...]  # stories that start in this message (for the message map)
    update_story: str = ""  # reply/edit: the story whose earlier message this one updates


@dataclass(slots=True)
class _Destination:
    """Where a message goes; changes when the group migrates mid-digest."""

    sub: Subscription
    target: str
    chat_id: int
    thread_id: int | None


class _DeadLetter(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Leave(Exception):
    """Leave the message pending: another process holds a part, or Telegram is unusable."""


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _fields(raw: dict[Any, Any]) -> dict[str, str]:
    return {_text(k): _text(v) for k, v in raw.items()}


def _seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        # PTB 22 warns that the attribute becomes a timedelta; both forms are handled.
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def default_consumer() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def plan_parts(sub: Subscription, entries: Sequence[DigestEntry]) -> list[Part]:
    """The messages of one digest, deterministic so a retry numbers parts the same way.

    ``new``: the entries packed into as few messages as fit. ``reply``/``edit``:
    each entry on its own, its first message updating the story's earlier one.
    """
    if sub.update_mode == "new":
        htmls = render_messages(entries, "telegram", sub.language)
        starts: dict[int, list[str]] = {}
        for entry in entries:
            needle = f"</b> {escape(entry.title)}"
            index = next((i for i, h in enumerate(htmls) if needle in h), 0)
            starts.setdefault(index, []).append(entry.story_id)
        return [Part(h, tuple(starts.get(i, ()))) for i, h in enumerate(htmls)]
    parts: list[Part] = []
    for entry in entries:
        for i, html in enumerate(render_messages([entry], "telegram", sub.language)):
            if i == 0:
                parts.append(Part(html, (entry.story_id,), update_story=entry.story_id))
            else:
                parts.append(Part(html, ()))
    return parts


class TelegramSender:
    """Consumes the outbox stream and posts digests to Telegram; see the module docstring."""

    def __init__(
        self,
        bot: telegram.Bot,
        store: SubscriptionStore,
        client: aioredis.Redis,
        keys: Keys,
        limits: Limits | None = None,
        *,
        owners_notify: OwnersNotify | None = None,
        settings: SenderSettings | None = None,
    ) -> None:
        self.bot = bot
        self.store = store
        self.client = client
        self.keys = keys
        self.settings = settings or SenderSettings()
        self.consumer = self.settings.consumer or default_consumer()
        # The owner of in-flight markers is this run, not the consumer name: a process
        # restarted under the same name must not take a dead run's marker for its own.
        self.owner = f"{self.consumer}/{uuid.uuid4().hex[:8]}"
        self.limiter = RateLimiter(client, keys, limits)
        self.owners_notify = owners_notify
        self.stats = DeliveryStats()
        self.stream = keys.outbox_stream()
        self._release = client.register_script(_RELEASE)
        self._claim_script = client.register_script(_CLAIM)
        # Four timeouts (pool, connect, write, read) of a fifth each: a request ends before
        # its part's lease does, and before the limiter stops counting it as in flight.
        self._timeout = min(self.settings.inflight_lease_ms, self.limiter.limits.flight_ms) / 5000
        self._room = asyncio.Event()
        # One chat's digests go out in order, chats in parallel.
        self.queues = TargetQueues(self._handle, on_done=self._room.set)
        # Workers doing Redis work at once; the rest wait their turn. redis-py's pool
        # refuses (not queues) commands beyond its size (100 by default).
        self._slots = asyncio.Semaphore(self.settings.redis_concurrency)
        self._group_ready = False
        self._history_read = False
        self._retry_history = False
        # marker → (message id, html, edited) of parts posted whose "sent" write failed.
        self._unrecorded: dict[str, tuple[int, str, bool]] = {}

    # -- the stream -----------------------------------------------------------------------

    async def ensure_group(self) -> None:
        if self._group_ready:
            return
        try:
            await self.client.xgroup_create(self.stream, self.settings.group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._group_ready = True

    def _messages(self, reply: Any) -> list[tuple[str, dict[str, str]]]:
        out = []
        for _stream, messages in reply or []:
            for msg_id, raw in messages:
                if raw:  # a pending id whose entry was trimmed comes back without fields
                    out.append((_text(msg_id), _fields(raw)))
        return out

    async def _read(
        self, count: int, block: int | None, history: bool = False
    ) -> list[tuple[str, dict[str, str]]]:
        reply = await self.client.xreadgroup(
            self.settings.group,
            self.consumer,
            {self.stream: "0" if history else ">"},
            count=count,
            block=block,
        )
        return self._messages(reply)

    async def _read_history(self) -> list[tuple[str, dict[str, str]]]:
        """This consumer name's own pending messages (a restart under the same name)."""
        self._history_read = True
        return await self._read(self.settings.max_inflight, None, history=True)

    async def _autoclaim(self) -> list[tuple[str, dict[str, str]]]:
        """Messages idle longer than ``claim_idle_ms`` in any consumer, now ours."""
        out: list[tuple[str, dict[str, str]]] = []
        start = "0-0"
        for _ in range(10):
            reply = await self.client.xautoclaim(
                self.stream,
                self.settings.group,
                self.consumer,
                self.settings.claim_idle_ms,
                start_id=start,
                count=self.settings.batch,
            )
            start = _text(reply[0])
            for msg_id, raw in reply[1]:
                if raw:
                    out.append((_text(msg_id), _fields(raw)))
            if len(reply) > 2 and reply[2]:
                self.stats.trimmed += len(reply[2])
                await self._count("trimmed", len(reply[2]))
                log.error("outbox messages lost to the stream cap: %s", reply[2])
            if start == "0-0":
                break
        return out

    async def _heartbeat(self) -> None:
        """Reset the idle time of the messages this process holds."""
        if self.queues.held:
            await self.client.xclaim(
                self.stream,
                self.settings.group,
                self.consumer,
                0,
                list[Any](sorted(self.queues.held)),
                justid=True,
            )

    async def _ack(self, msg_id: str) -> None:
        pipe = self.client.pipeline(transaction=True)
        pipe.xack(self.stream, self.settings.group, msg_id)
        pipe.xdel(self.stream, msg_id)
        await pipe.execute()

    async def _dead_letter(self, msg_id: str, fields: dict[str, str], reason: str) -> None:
        log.warning("dead letter %s (%s): %s", msg_id, fields.get("target"), reason)
        pipe = self.client.pipeline(transaction=True)
        letter: dict[Any, Any] = {**fields, "reason": reason, "stream_id": msg_id}
        letter["at"] = str(int(time.time()))
        pipe.xadd(
            self.keys.outbox_dead(),
            letter,
            maxlen=self.settings.dead_maxlen,
            approximate=True,
        )
        pipe.xack(self.stream, self.settings.group, msg_id)
        pipe.xdel(self.stream, msg_id)
        await pipe.execute()
        # Apart from the MULTI: the counter lives in another hash slot (Redis Cluster).
        await self.client.hincrby(self.keys.delivery_stats(), "dead", 1)
        self.stats.dead += 1
        if not reason.startswith(_QUIET_DEAD):
            await self._notify(f"Digest for {fields.get('target')} dead-lettered: {reason}")

    # -- scheduling of work -------------------------------------------------------------------

    async def drain_once(self) -> int:
        """Take what the stream holds now (own pending, idle claims, new), deliver it all.

        The number of outbox messages finished (acknowledged or dead-lettered).
        """
        await self.ensure_group()
        before = self.stats.messages + self.stats.dead
        batch: list[tuple[str, dict[str, str]]] = []
        if not self._history_read:
            batch += await self._read_history()
        batch += await self._autoclaim()
        batch += await self._read(self.settings.max_inflight, None)
        self.queues.dispatch(batch)
        # Cancelled, it stops mid-digest as a crash would: the messages stay pending.
        await self.queues.join()
        return self.stats.messages + self.stats.dead - before

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set, then finish in-flight digests (up to ``stop_grace_s``)."""
        try:
            await self._run(stop)
        except asyncio.CancelledError:
            await self.queues.cancel()
            raise

    async def _run(self, stop: asyncio.Event) -> None:
        await self.ensure_group()
        loop = asyncio.get_running_loop()
        last_claim = loop.time() - self.settings.claim_every_s  # a dead peer's work: at once
        self.queues.dispatch(await self._read_history())
        while not stop.is_set():
            try:
                if loop.time() - last_claim >= self.settings.claim_every_s:
                    last_claim = loop.time()
                    await self._heartbeat()
                    if self._retry_history:
                        self._retry_history = False
                        self.queues.dispatch(await self._read_history())
                    self.queues.dispatch(await self._autoclaim())
                room = self.settings.max_inflight - len(self.queues.held)
                if room <= 0:
                    self._room.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._room.wait(), self.settings.block_ms / 1000)
                    continue
                self.queues.dispatch(
                    await self._read(min(self.settings.batch, room), self.settings.block_ms)
                )
            except RedisError as exc:
                log.warning("outbox read failed: %s", exc)
                await asyncio.sleep(1.0)
        # Stopping: only the digests under way finish; those not begun stay pending (the
        # shell hands them over to the next sender), so the grace covers one digest per chat.
        self.queues.drop_queued()
        await self.queues.wait(self.settings.stop_grace_s)
        # Messages still unfinished stay pending; another process or the next run claims them.
        await self.queues.cancel()

    # -- one message ------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _unslotted(self) -> AsyncIterator[None]:
        """Give the Redis slot up while waiting for the limiter and Telegram."""
        self._slots.release()
        try:
            yield
        finally:
            await self._slots.acquire()

    async def _handle(self, msg_id: str, fields: dict[str, str]) -> None:
        async with self._slots:
            await self._handle_slotted(msg_id, fields)

    async def _handle_slotted(self, msg_id: str, fields: dict[str, str]) -> None:
        try:
            await self._deliver(msg_id, fields)
        except _DeadLetter as exc:
            await self._dead_letter(msg_id, fields, exc.reason)
        except _Leave as exc:
            self.stats.busy += 1
            log.info("message %s left pending: %s", msg_id, exc)
        except (RedisError, OSError) as exc:
            log.warning("message %s left pending: %s", msg_id, exc)
            # Ours to retry once Redis answers again, not after another process's claim time.
            self._retry_history = True
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # A bug (a template, a malformed message) would fail the same way on every
            # retry; the dead letter keeps the message for a person to look at.
            log.exception("message %s failed", msg_id)
            await self._dead_letter(msg_id, fields, f"internal error: {exc!r}")

    async def _follow_migration(self, target: str) -> str:
        chat, thread = parse_telegram_target(target)
        for _ in range(3):
            new = await self.client.hget(self.keys.migrations(), str(chat))
            if not new:
                break
            chat = int(new)
        return telegram_target(chat, thread)

    async def _deliver(self, msg_id: str, fields: dict[str, str]) -> None:
        target = fields.get("target", "")
        digest = fields.get("digest_id", "")
        if not target.startswith("telegram:") or not digest:
            raise _DeadLetter("not a Telegram outbox message")
        target = await self._follow_migration(target)
        sub = await self.store.get(target)
        if sub is None:
            raise _DeadLetter("no subscription")
        if not sub.active:
            raise _DeadLetter(f"subscription inactive: {sub.deactivated_reason}")
        ids = json.loads(fields.get("entries", "[]"))
        entries = [e for e in await load_entries(self.client, self.keys, ids) if e is not None]
        if not entries:
            raise _DeadLetter("entries expired")
        chat_id, thread_id = parse_telegram_target(target)
        dest = _Destination(sub, target, chat_id, thread_id)
        created = int(msg_id.split("-", 1)[0]) / 1000.0
        for index, part in enumerate(plan_parts(sub, entries[: sub.max_stories])):
            await self._deliver_part(dest, digest, index, part, created)
        await self._ack(msg_id)
        self.stats.messages += 1

    async def _previous(self, target: str, story_id: str) -> tuple[int, str] | None:
        raw = await self.client.hgetall(self.keys.story_message(target, story_id))
        if not raw:
            return None
        data = _fields(raw)
        return int(data["id"]), data.get("html", "")

    async def _deliver_part(
        self, dest: _Destination, digest: str, index: int, part: Part, created: float
    ) -> None:
        marker = self.keys.part_marker(digest, index)
        unrecorded = self._unrecorded.pop(marker, None)
        if unrecorded is not None:
            # Posted before Redis went away: record it now instead of posting it again.
            message_id, html, edited = unrecorded
            await self._posted(dest, marker, message_id, html, part, edited=edited)
            return
        mine = f"inflight:{self.owner}"
        attempts = 0
        no_edit = False
        while True:
            sub = dest.sub
            previous = None
            if part.update_story and sub.update_mode != "new":
                previous = await self._previous(dest.target, part.update_story)
            edit_text = ""
            if previous and sub.update_mode == "edit" and previous[1] and not no_edit:
                joined = f"{previous[1]}\n\n{part.html}"
                if telegram_length(joined) <= TELEGRAM_LIMIT:
                    edit_text = joined
            # Claimed before the limiter, so nothing but the request itself stands between
            # the limiter's "go" and Telegram: every millisecond there is send-time jitter.
            state = await self._claim(marker, mine)
            if state.startswith("sent:"):
                self.stats.skipped += 1
                return
            if state != mine:
                raise _Leave(f"part {index} of {digest} is being posted by {state[9:]}")
            message_id, html = 0, part.html
            try:
                async with self._unslotted():
                    try:
                        permit = await self.limiter.acquire(
                            dest.chat_id, is_group(sub.chat_type, dest.chat_id)
                        )
                    except asyncio.CancelledError:
                        # Not sent: free the part now rather than after the lease.
                        await asyncio.shield(self._release_marker(marker, mine))
                        raise
                    try:
                        if permit.waited * 3000 > self.settings.inflight_lease_ms:
                            state = await self._claim(marker, mine)  # renew after a long wait
                        if state == mine and edit_text and previous:
                            message_id = await self._edit(dest, previous[0], edit_text)
                            html = edit_text
                        elif state == mine:
                            reply_to = (
                                previous[0] if previous and sub.update_mode == "reply" else None
                            )
                            message_id = await self._send(dest, part.html, reply_to)
                    finally:
                        try:
                            await self.limiter.done(permit)
                        except (RedisError, OSError) as exc:
                            # The permit then expires by itself; losing the message id of a
                            # posted part here would post it again.
                            log.warning("rate limiter unavailable: %s", exc)
            except RetryAfter as exc:
                await self._release_marker(marker, mine)
                seconds = _seconds(exc)
                self.stats.retry_after += 1
                await self._count("retry_after")
                await self.limiter.penalize(dest.chat_id, seconds)
                continue
            except ChatMigrated as exc:
                await self._release_marker(marker, mine)
                await self._migrate(dest, int(exc.new_chat_id))
                continue
            except Forbidden as exc:
                await self._release_marker(marker, mine)
                await self._deactivate(dest, exc.message)
                raise _DeadLetter(f"forbidden: {exc.message}") from None
            except BadRequest as exc:
                await self._release_marker(marker, mine)
                text = exc.message.lower()
                if edit_text and previous and _NOT_MODIFIED in text:
                    message_id, html = previous[0], edit_text  # an earlier run's edit landed
                elif edit_text and any(s in text for s in _EDIT_GONE):
                    no_edit = True
                    continue
                elif any(s in text for s in _GONE):
                    await self._deactivate(dest, exc.message)
                    raise _DeadLetter(f"gone: {exc.message}") from None
                else:
                    raise _DeadLetter(f"bad request: {exc.message} (part {index})") from None
            except (TimedOut, NetworkError) as exc:
                await self._release_marker(marker, mine)
                attempts += 1
                self.stats.retried += 1
                await self._count("retried")
                if attempts >= self.settings.max_attempts:
                    raise _DeadLetter(f"network: {exc.message} after {attempts} attempts") from None
                async with self._unslotted():
                    await asyncio.sleep(self._backoff(attempts))
                continue
            except TelegramError as exc:
                # InvalidToken and the like: nothing a retry of this message fixes now.
                await self._release_marker(marker, mine)
                log.error("telegram refused %s: %s", dest.target, exc)
                raise _Leave(str(exc)) from None
            if not message_id:  # the lease ran out during a long wait and someone took over
                raise _Leave(f"part {index} of {digest} was taken over by {state[9:]}")
            break
        await self._posted(dest, marker, message_id, html, part, edited=bool(edit_text))
        self.stats.latencies.append(time.time() - created)

    async def _posted(
        self,
        dest: _Destination,
        marker: str,
        message_id: int,
        html: str,
        part: Part,
        *,
        edited: bool,
    ) -> None:
        settings = self.settings
        # The marker goes first in the same round trip: it is the one write that matters.
        pipe = self.client.pipeline(transaction=False)
        pipe.set(marker, f"sent:{message_id}", ex=settings.sent_ttl_s)
        for story in part.stories:
            key = self.keys.story_message(dest.target, story)
            mapping: dict[Any, Any] = {"id": str(message_id)}
            if dest.sub.update_mode == "edit":
                mapping["html"] = html
            pipe.hset(key, mapping=mapping)
            if dest.sub.update_mode != "edit":
                pipe.hdel(key, "html")
            pipe.expire(key, settings.message_map_ttl_s)
        pipe.hincrby(self.keys.delivery_stats(), "edited" if edited else "sent", 1)
        try:
            await pipe.execute()
        except (RedisError, OSError):
            # Telegram has the part; only our record of it failed. Kept in memory so the
            # retry of this message records it rather than posting it a second time.
            self._unrecorded[marker] = (message_id, html, edited)
            raise
        if edited:
            self.stats.edited += 1
        else:
            self.stats.sent += 1

    async def _claim(self, marker: str, mine: str) -> str:
        state = await self._claim_script(
            keys=[marker], args=[mine, self.settings.inflight_lease_ms]
        )
        return _text(state)

    async def _release_marker(self, marker: str, mine: str) -> None:
        """The part was not posted: let anyone (this run included) try again."""
        await self._release(keys=[marker], args=[mine])

    def _backoff(self, attempt: int) -> float:
        ceiling = min(
            self.settings.backoff_max_s, self.settings.backoff_base_s * 2 ** (attempt - 1)
        )
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    # -- Telegram calls -------------------------------------------------------------------

    async def _send(self, dest: _Destination, html: str, reply_to: int | None) -> int:
        sub = dest.sub
        message = await self.bot.send_message(
            chat_id=dest.chat_id,
            text=html,
            parse_mode=ParseMode.HTML,
            message_thread_id=dest.thread_id,
            disable_notification=sub.silent,
            link_preview_options=LinkPreviewOptions(is_disabled=not sub.link_previews),
            reply_parameters=(
                ReplyParameters(message_id=reply_to, allow_sending_without_reply=True)
                if reply_to
                else None
            ),
            read_timeout=self._timeout,
            write_timeout=self._timeout,
            connect_timeout=self._timeout,
            pool_timeout=self._timeout,
        )
        return int(message.message_id)

    async def _edit(self, dest: _Destination, message_id: int, html: str) -> int:
        await self.bot.edit_message_text(
            text=html,
            chat_id=dest.chat_id,
            message_id=message_id,
            parse_mode=ParseMode.HTML,
            link_preview_options=LinkPreviewOptions(is_disabled=not dest.sub.link_previews),
            read_timeout=self._timeout,
            write_timeout=self._timeout,
            connect_timeout=self._timeout,
            pool_timeout=self._timeout,
        )
        return message_id

    # -- chats that changed -------------------------------------------------------------------

    async def _migrate(self, dest: _Destination, new_chat_id: int) -> None:
        old_chat = dest.chat_id
        olds = [s.target for s in await self.store.for_chat(old_chat)]
        await self.store.migrate_chat(old_chat, new_chat_id)
        await self.client.hset(self.keys.migrations(), str(old_chat), str(new_chat_id))
        for old in olds:
            _, thread = parse_telegram_target(old)
            await move_target(self.client, self.keys, old, telegram_target(new_chat_id, thread))
        dest.chat_id = new_chat_id
        dest.target = telegram_target(new_chat_id, dest.thread_id)
        moved = await self.store.get(dest.target)
        dest.sub = moved or dest.sub.with_changes(target=dest.target, chat_type="supergroup")
        self.stats.migrated += 1
        await self._count("migrated")
        log.info("chat %s migrated to %s", old_chat, new_chat_id)
        await self._notify(f"Chat {old_chat} became supergroup {new_chat_id}; subscriptions moved")

    async def _deactivate(self, dest: _Destination, reason: str) -> None:
        subs = await self.store.for_chat(dest.chat_id) or [dest.sub]
        now = int(time.time())
        for sub in subs:
            await self.store.deactivate(sub.target, reason)
            await self.client.hset(
                self.keys.deactivations(),
                sub.target,
                json.dumps({"reason": reason, "at": now, "chat_type": sub.chat_type}),
            )
        self.stats.deactivated += len(subs)
        await self._count("deactivated", len(subs))
        await self._notify(f"Chat {dest.chat_id} deactivated: {reason}")

    async def _count(self, name: str, n: int = 1) -> None:
        await self.client.hincrby(self.keys.delivery_stats(), name, n)

    async def _notify(self, text: str) -> None:
        if self.owners_notify is None:
            return
        try:
            await self.owners_notify(text)
        except Exception:
            log.exception("owner notification failed")


async def delivery_report(client: aioredis.Redis, keys: Keys) -> dict[str, Any]:
    """Shared delivery counters, deactivated chats and the outbox backlog (for ``/stats``)."""
    stats = {_text(k): int(v) for k, v in (await client.hgetall(keys.delivery_stats())).items()}
    deactivated = {
        _text(k): json.loads(v) for k, v in (await client.hgetall(keys.deactivations())).items()
    }
    backlog = await client.xlen(keys.outbox_stream())
    dead = await client.xlen(keys.outbox_dead())
    return {"counters": stats, "deactivated": deactivated, "backlog": backlog, "dead": dead}


# -- a stand-alone sender process ---------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bot.telegram_sender",
        description="Deliver the outbox to Telegram (token in DIGESTBOT_TELEGRAM_TOKEN).",
    )
    p.add_argument("--redis-url", required=True)
    p.add_argument("--prefix", default="digestbot")
    p.add_argument("--base-url", default="", help="Bot API base URL (a local emulator)")
    p.add_argument("--consumer", default="")
    s, lim = SenderSettings(), Limits()
    p.add_argument("--claim-idle-ms", type=int, default=s.claim_idle_ms)
    p.add_argument("--claim-every", type=float, default=s.claim_every_s)
    p.add_argument("--inflight-lease-ms", type=int, default=s.inflight_lease_ms)
    p.add_argument("--global-per-second", type=float, default=lim.global_per_second)
    p.add_argument("--per-chat-per-second", type=float, default=lim.per_chat_per_second)
    p.add_argument("--per-group-per-minute", type=float, default=lim.per_group_per_minute)
    return p


async def _main(args: argparse.Namespace, token: str) -> None:
    from telegram.request import HTTPXRequest

    bot_args: dict[str, Any] = {"request": HTTPXRequest(connection_pool_size=64)}
    if args.base_url:
        bot_args["base_url"] = args.base_url
    bot = telegram.Bot(token, **bot_args)
    client: aioredis.Redis = aioredis.Redis.from_url(args.redis_url)
    keys = Keys(args.prefix)
    limits = Limits(
        global_per_second=args.global_per_second,
        per_chat_per_second=args.per_chat_per_second,
        per_group_per_minute=args.per_group_per_minute,
    )
    settings = SenderSettings(
        consumer=args.consumer,
        claim_idle_ms=args.claim_idle_ms,
        claim_every_s=args.claim_every,
        inflight_lease_ms=args.inflight_lease_ms,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with bot:
            sender = TelegramSender(
                bot, SubscriptionStore(client, keys), client, keys, limits, settings=settings
            )
            await sender.run(stop)
    finally:
        await client.aclose()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    token = os.environ.get("DIGESTBOT_TELEGRAM_TOKEN", "")
    if not token:
        print("set DIGESTBOT_TELEGRAM_TOKEN", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s: %(message)s")
    asyncio.run(_main(args, token))
    return 0


if __name__ == "__main__":
    sys.exit(main())
