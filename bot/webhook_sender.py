"""The webhook sender: consumes the webhook outbox stream, posts each digest part exactly once.

Outbox messages for ``webhook:<name>`` targets have a stream of their own
(``P:{P:outbox}:webhook``, consumer group ``webhooks``); this module is to them
what ``bot.telegram_sender`` is to Telegram chats, with the same guarantees:

* A message stays pending in the group until every part of its digest is posted;
  a restarted process reads its own pending messages first, and ``XAUTOCLAIM``
  hands messages idle longer than ``claim_idle_ms`` (a dead process's) to a live one.
* Exactly once per (target, digest, part): the marker ``P:whsent:<digest>:<part>``
  is claimed as ``inflight:<owner>`` (PX lease) before the request and becomes
  ``sent:<status>`` once the platform accepted it. A part marked sent is never
  posted again. The window a crash can hit (after the platform's 2xx, before the
  marker write) is closed by Matrix (the ``txnId`` is ``<digest>-<part>``: the
  homeserver answers a repeated PUT with the first event) and by generic
  receivers that deduplicate on ``webhook-id`` (``<digest>-<part>``, as Standard
  Webhooks asks); Slack, Discord, Mattermost and Teams have no idempotency key.

Answers: 2xx → sent; 429 → wait ``Retry-After`` (Discord's ``retry_after``,
Matrix's ``retry_after_ms``; at most ``max_retry_after``) and retry, without
limit; 404/410 → the webhook is gone: its subscription is deactivated (kept, with
the reason, so it can be re-enabled), recorded in ``P:delivery:deactivated``, the
owners told, the message dead-lettered; other 4xx → dead-lettered at once (the
same request fails the same way again); 5xx, timeouts and network errors →
retried with exponential backoff and jitter, dead-lettered after
``max_attempts``. Webhook URLs carry their credentials, so logs and dead letters
name only the webhook (``webhook:<name>``), never its URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
import socket
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import httpx
import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

from bot.config import WebhookConfig, WebhookDeliveryConfig
from bot.errors import UnsafeURL
from bot.keys import Keys
from bot.netguard import NetGuard
from bot.outbox import load_entries
from bot.subscription_store import SubscriptionStore
from bot.target_queues import TargetQueues
from digests.models import DigestEntry
from digests.webhooks import (
    Payload,
    discord_payload,
    matrix_payload,
    mattermost_payload,
    slack_payload,
    standard_webhooks_signature,
    teams_payload,
)

log = logging.getLogger(__name__)

GROUP = "webhooks"
OwnersNotify = Callable[[str], Awaitable[None]]
MAX_ERROR_TEXT = 200
MAX_ANSWER_BYTES = 64 * 1024
# Seconds between two posts to one webhook: Slack allows about 1 message/s per webhook,
# Discord 5 requests per 2 s, Teams Workflows 4 requests/s. A 429 still wins.
THREAD_TTL_S = 30 * 24 * 3600
PLATFORM_INTERVAL = {"slack": 1.0, "discord": 0.4, "teams": 0.25}

_CLAIM = """
local v = redis.call('GET', KEYS[1])
if not v or v == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return ARGV[1]
end
return v
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


@dataclass(frozen=True, slots=True)
class WebhookSenderSettings:
    """Tuning of one sender process; ``consumer`` defaults to ``<host>-<pid>``."""

    consumer: str = ""
    batch: int = 32
    max_inflight: int = 256  # messages held at once; a slow webhook must not pull the stream
    block_ms: int = 500
    claim_idle_ms: int = 60_000
    claim_every_s: float = 5.0
    inflight_lease_ms: int = 60_000
    sent_ttl_s: int = 14 * 24 * 3600
    dead_maxlen: int = 10_000
    stop_grace_s: float = 10.0
    # Space posts to one webhook as its platform asks (PLATFORM_INTERVAL), per process.
    pacing: bool = True


@dataclass(slots=True)
class WebhookStats:
    """Counters of this process (``P:webhook:stats`` keeps the shared ones)."""

    messages: int = 0
    sent: int = 0
    skipped: int = 0
    retry_after: int = 0
    retried: int = 0
    dead: int = 0
    deactivated: int = 0
    busy: int = 0
    # Seconds from the outbox XADD to the platform's acceptance of each part.
    latencies: deque[float] = field(default_factory=lambda: deque(maxlen=100_000))


class _DeadLetter(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Leave(Exception):
    """Leave the message pending: another process is posting one of its parts."""


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def default_consumer() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def generic_payload(
    entries: Sequence[DigestEntry], language: str, target: str, digest: str
) -> Payload:
    """The generic sink's body: the digest model itself, as JSON."""
    return {
        "type": "digest",
        "target": target,
        "digest_id": digest,
        "language": language,
        "entries": [asdict(e) for e in entries],
    }


def build_payloads(
    hook: WebhookConfig, entries: Sequence[DigestEntry], language: str, digest: str
) -> list[Payload]:
    """The bodies of one digest for ``hook``'s platform, each within its limits."""
    if hook.platform == "slack":
        return slack_payload(entries, language)
    if hook.platform == "discord":
        return discord_payload(entries, language)
    if hook.platform == "mattermost":
        return mattermost_payload(entries, language)
    if hook.platform == "teams":
        return teams_payload(entries, language)
    if hook.platform == "matrix":
        return matrix_payload(entries, language)
    return [generic_payload(entries, language, hook.target, digest)]


def part_id(digest: str, index: int) -> str:
    """Matrix's txnId and the generic ``webhook-id``: stable across retries and restarts."""
    return f"{digest}-{index}"


def retry_after_seconds(response: httpx.Response, now: float) -> float | None:
    """The wait a 429 asks for: ``Retry-After`` (seconds or a date), Discord's JSON
    ``retry_after`` (seconds), Matrix's ``retry_after_ms``; None when none is given."""
    header = response.headers.get("retry-after", "").strip()
    if header:
        try:
            return max(0.0, float(header))
        except ValueError:
            with contextlib.suppress(TypeError, ValueError, IndexError):
                return max(0.0, parsedate_to_datetime(header).timestamp() - now)
    with contextlib.suppress(ValueError, UnicodeDecodeError, RecursionError):
        body = response.json()
        if isinstance(body, dict):
            value = body.get("retry_after")
            if isinstance(value, int | float) and not isinstance(value, bool):
                return max(0.0, float(value))
            ms = body.get("retry_after_ms")
            if isinstance(ms, int | float) and not isinstance(ms, bool):
                return max(0.0, float(ms) / 1000)
    return None


class WebhookSender:
    """Consumes the webhook stream and posts digests; see the module docstring."""

    def __init__(
        self,
        client: aioredis.Redis,
        keys: Keys,
        hooks: Sequence[WebhookConfig],
        delivery: WebhookDeliveryConfig | None = None,
        *,
        settings: WebhookSenderSettings | None = None,
        http: httpx.AsyncClient | None = None,
        owners_notify: OwnersNotify | None = None,
        guard: NetGuard | None = None,
    ) -> None:
        self.client = client
        self.keys = keys
        self.store = SubscriptionStore(client, keys)
        self.hooks = {h.target: h for h in hooks}
        self.delivery = delivery or WebhookDeliveryConfig()
        self.settings = settings or WebhookSenderSettings()
        self.consumer = self.settings.consumer or default_consumer()
        self.owner = f"{self.consumer}/{uuid.uuid4().hex[:8]}"
        self.owners_notify = owners_notify
        # The SSRF guard for webhook URLs (None: the caller vouches for them, as tests do).
        self.guard = guard
        self.stats = WebhookStats()
        self.stream = keys.webhook_stream()
        self._own_http = http is None
        # No redirects: a webhook that moves is misconfigured, and following it could
        # carry the digest (and Matrix's token) somewhere else.
        self.http = http or httpx.AsyncClient(timeout=self.delivery.timeout, follow_redirects=False)
        self._claim_script = client.register_script(_CLAIM)
        self._release = client.register_script(_RELEASE)
        # One target's digests go out in order, targets in parallel.
        self.queues = TargetQueues(self._handle)
        self._last_post: dict[str, float] = {}
        self._group_ready = False

    async def aclose(self) -> None:
        if self._own_http:
            await self.http.aclose()

    # -- the stream ----------------------------------------------------------------------

    async def ensure_group(self) -> None:
        if self._group_ready:
            return
        try:
            await self.client.xgroup_create(self.stream, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._group_ready = True

    async def _read(self, count: int, block: int | None, history: bool = False) -> list[Any]:
        reply: Any = await self.client.xreadgroup(
            GROUP, self.consumer, {self.stream: "0" if history else ">"}, count=count, block=block
        )
        out = []
        for _stream, messages in reply or []:
            for msg_id, raw in messages:
                if raw:
                    out.append((_text(msg_id), {_text(k): _text(v) for k, v in raw.items()}))
        return out

    async def _autoclaim(self) -> list[Any]:
        reply = await self.client.xautoclaim(
            self.stream,
            GROUP,
            self.consumer,
            self.settings.claim_idle_ms,
            start_id="0-0",
            count=self.settings.batch,
        )
        return [
            (_text(i), {_text(k): _text(v) for k, v in raw.items()}) for i, raw in reply[1] if raw
        ]

    async def _heartbeat(self) -> None:
        if self.queues.held:
            await self.client.xclaim(
                self.stream,
                GROUP,
                self.consumer,
                0,
                list[Any](sorted(self.queues.held)),
                justid=True,
            )

    async def drain_once(self) -> int:
        """Deliver what the stream holds now (own pending, idle claims, new); messages done."""
        await self.ensure_group()
        before = self.stats.messages + self.stats.dead
        batch = await self._read(1000, None, history=True)
        batch += await self._autoclaim()
        batch += await self._read(1000, None)
        self.queues.dispatch(batch)
        # Cancelled, it stops mid-digest as a crash would: the messages stay pending.
        await self.queues.join()
        return self.stats.messages + self.stats.dead - before

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set, then finish in-flight digests (up to the grace)."""
        try:
            await self._run(stop)
        except asyncio.CancelledError:
            await self.queues.cancel()
            raise

    async def _run(self, stop: asyncio.Event) -> None:
        await self.ensure_group()
        loop = asyncio.get_running_loop()
        last_claim = loop.time() - self.settings.claim_every_s
        self.queues.dispatch(await self._read(1000, None, history=True))
        while not stop.is_set():
            try:
                if loop.time() - last_claim >= self.settings.claim_every_s:
                    last_claim = loop.time()
                    await self._heartbeat()
                    self.queues.dispatch(await self._autoclaim())
                room = self.settings.max_inflight - len(self.queues.held)
                if room <= 0:
                    await asyncio.sleep(self.settings.block_ms / 1000)
                    continue
                count = min(self.settings.batch, room)
                self.queues.dispatch(await self._read(count, self.settings.block_ms))
            except RedisError as exc:
                log.warning("webhook outbox read failed: %s", exc)
                await asyncio.sleep(1.0)
        await self.queues.wait(self.settings.stop_grace_s)
        # Unfinished messages stay pending: the next run (or another process) claims them.
        await self.queues.cancel()

    # -- one message ------------------------------------------------------------------------

    async def _handle(self, msg_id: str, fields: dict[str, str]) -> None:
        try:
            await self._deliver(msg_id, fields)
        except _DeadLetter as exc:
            await self._dead_letter(msg_id, fields, exc.reason)
        except _Leave as exc:
            self.stats.busy += 1
            log.info("message %s left pending: %s", msg_id, exc)
        except (RedisError, OSError) as exc:
            log.warning("message %s left pending: %s", msg_id, exc)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("webhook message %s failed", msg_id)
            await self._dead_letter(msg_id, fields, f"internal error: {type(exc).__name__}")

    async def _deliver(self, msg_id: str, fields: dict[str, str]) -> None:
        target = fields.get("target", "")
        digest = fields.get("digest_id", "")
        hook = self.hooks.get(target)
        if hook is None or not digest:
            raise _DeadLetter("no such webhook in the configuration")
        if not hook.url:
            raise _DeadLetter(f"no URL: set DIGESTBOT_SINK_{hook.name.upper()}_URL")
        sub = await self.store.get(target)
        if sub is None:
            raise _DeadLetter("no subscription")
        if not sub.active:
            raise _DeadLetter(f"subscription inactive: {sub.deactivated_reason}")
        try:
            ids = json.loads(fields.get("entries", "[]"))
        except ValueError:
            raise _DeadLetter("malformed entries") from None
        entries = [e for e in await load_entries(self.client, self.keys, ids) if e is not None]
        if not entries:
            raise _DeadLetter("entries expired")
        entries = entries[: sub.max_stories]
        parts: list[tuple[Payload, DigestEntry | None]]
        if hook.platform == "discord" and hook.forum:
            # A forum channel: each story is a thread, so each entry's parts are its own.
            parts = [(p, e) for e in entries for p in discord_payload([e], sub.language)]
        else:
            parts = [(p, None) for p in build_payloads(hook, entries, sub.language, digest)]
        created = int(msg_id.split("-", 1)[0]) / 1000.0
        for index, (payload, story) in enumerate(parts):
            await self._deliver_part(hook, digest, index, payload, created, story)
        pipe = self.client.pipeline(transaction=True)  # acked and deleted together
        pipe.xack(self.stream, GROUP, msg_id)
        pipe.xdel(self.stream, msg_id)
        await pipe.execute()
        self.stats.messages += 1

    async def _deliver_part(
        self,
        hook: WebhookConfig,
        digest: str,
        index: int,
        payload: Payload,
        created: float,
        story: DigestEntry | None = None,
    ) -> None:
        marker = self.keys.webhook_marker(digest, index)
        mine = f"inflight:{self.owner}"
        attempts = 0
        while True:
            state = _text(
                await self._claim_script(
                    keys=[marker], args=[mine, self.settings.inflight_lease_ms]
                )
            )
            if state.startswith("sent:"):
                self.stats.skipped += 1
                return
            if state != mine:
                raise _Leave(f"part {index} of {digest} is being posted by another process")
            body, thread = payload, ""
            if story is not None:
                thread = _text(await self.client.get(self._thread_key(hook, story)) or b"")
                if not thread:
                    # Discord creates the thread; its id comes back as the message's channel.
                    name = (story.title or f"Story {story.story_id}").strip()[:100]
                    body = {**payload, "thread_name": name}
            await self._pace(hook)
            try:
                response = await self._request(hook, digest, index, body, thread)
            except UnsafeURL as exc:
                # Checked on every post: the name may resolve elsewhere by now.
                await self._release(keys=[marker], args=[mine])
                raise _DeadLetter(f"refused: {exc}") from None
            except httpx.HTTPError as exc:
                await self._release(keys=[marker], args=[mine])
                attempts += 1
                await self._retry_or_die(attempts, f"network: {type(exc).__name__}")
                continue
            status = response.status_code
            if 200 <= status < 300:
                pipe = self.client.pipeline(transaction=False)
                pipe.set(marker, f"sent:{status}", ex=self.settings.sent_ttl_s)
                pipe.hincrby(self.keys.webhook_stats(), "sent", 1)
                if story is not None and not thread:
                    new_thread = _channel_id(response)
                    if new_thread:
                        pipe.set(self._thread_key(hook, story), new_thread, ex=THREAD_TTL_S)
                await pipe.execute()
                self.stats.sent += 1
                self.stats.latencies.append(max(0.0, time.time() - created))
                return
            await self._release(keys=[marker], args=[mine])
            if status == 429:
                wait = retry_after_seconds(response, time.time())
                wait = min(1.0 if wait is None else wait, self.delivery.max_retry_after)
                self.stats.retry_after += 1
                await self._count("retry_after")
                log.info("%s: 429, waiting %.1f s", hook.target, wait)
                await asyncio.sleep(wait)
                continue
            if status in (404, 410):
                await self._deactivate(hook, f"gone: HTTP {status}")
                raise _DeadLetter(f"gone: HTTP {status}")
            if 400 <= status < 500 and status != 408:
                raise _DeadLetter(f"rejected: HTTP {status} {_short(response)} (part {index})")
            attempts += 1
            await self._retry_or_die(attempts, f"HTTP {status}")

    async def _pace(self, hook: WebhookConfig) -> None:
        interval = PLATFORM_INTERVAL.get(hook.platform, 0.0) if self.settings.pacing else 0.0
        loop = asyncio.get_running_loop()
        wait = self._last_post.get(hook.target, -interval) + interval - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        self._last_post[hook.target] = loop.time()

    async def _retry_or_die(self, attempts: int, what: str) -> None:
        self.stats.retried += 1
        await self._count("retried")
        if attempts >= self.delivery.max_attempts:
            raise _DeadLetter(f"failed: {what} after {attempts} attempts")
        await asyncio.sleep(self._backoff(attempts))

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.delivery.backoff_max, self.delivery.backoff_base * 2 ** (attempt - 1))
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def _thread_key(self, hook: WebhookConfig, story: DigestEntry) -> str:
        return self.keys.webhook_thread(hook.target, story.story_id)

    async def _request(
        self, hook: WebhookConfig, digest: str, index: int, payload: Payload, thread: str = ""
    ) -> httpx.Response:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        if hook.platform == "matrix":
            room = quote(hook.room, safe="")
            txn = quote(part_id(digest, index), safe="")
            url = f"{hook.url.rstrip('/')}/_matrix/client/v3/rooms/{room}/send/m.room.message/{txn}"
            headers["Authorization"] = f"Bearer {hook.token}"
            return await self._send("PUT", url, body, headers)
        url = hook.url
        if hook.platform == "discord":
            # wait=true: Discord answers with the message, so a 2xx means it was created.
            params = {"wait": "true", **({"thread_id": thread} if thread else {})}
            url = str(httpx.URL(url).copy_merge_params(params))
        if hook.platform == "generic":
            msg_id = part_id(digest, index)
            timestamp = int(time.time())
            headers["webhook-id"] = msg_id
            headers["webhook-timestamp"] = str(timestamp)
            if hook.secret:
                headers["webhook-signature"] = standard_webhooks_signature(
                    hook.secret, msg_id, timestamp, body
                )
        return await self._send("POST", url, body, headers)

    async def _send(
        self, method: str, url: str, body: bytes, headers: dict[str, str]
    ) -> httpx.Response:
        """The answer with at most MAX_ANSWER_BYTES of its (decoded) body: a webhook's
        answer is a short JSON at most, and must not fill our memory."""
        if self.guard is not None:
            await self.guard.check(url)
        async with self.http.stream(method, url, content=body, headers=headers) as answer:
            kept = bytearray()
            async for chunk in answer.aiter_bytes():
                kept += chunk[: MAX_ANSWER_BYTES - len(kept)]
                if len(kept) >= MAX_ANSWER_BYTES:
                    break
            plain = {
                k: v
                for k, v in answer.headers.items()
                if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")
            }
            return httpx.Response(answer.status_code, headers=plain, content=bytes(kept))

    # -- outcomes ---------------------------------------------------------------------------

    async def _dead_letter(self, msg_id: str, fields: dict[str, str], reason: str) -> None:
        log.warning("dead letter %s (%s): %s", msg_id, fields.get("target"), reason)
        letter: dict[Any, Any] = {**fields, "reason": reason, "stream_id": msg_id}
        letter["at"] = str(int(time.time()))
        # One MULTI over the outbox's hash slot (the letter can't be both kept and pending);
        # the counter lives elsewhere, so it is a command of its own (Redis Cluster).
        pipe = self.client.pipeline(transaction=True)
        pipe.xadd(
            self.keys.outbox_dead(), letter, maxlen=self.settings.dead_maxlen, approximate=True
        )
        pipe.xack(self.stream, GROUP, msg_id)
        pipe.xdel(self.stream, msg_id)
        await pipe.execute()
        await self._count("dead")
        self.stats.dead += 1
        if not reason.startswith(("gone:", "subscription inactive", "no subscription")):
            await self._notify(f"Digest for {fields.get('target')} dead-lettered: {reason}")

    async def _deactivate(self, hook: WebhookConfig, reason: str) -> None:
        await self.store.deactivate(hook.target, reason)
        await self.client.hset(
            self.keys.deactivations(),
            hook.target,
            json.dumps({"reason": reason, "at": int(time.time()), "chat_type": "webhook"}),
        )
        self.stats.deactivated += 1
        await self._count("deactivated")
        await self._notify(f"Webhook {hook.name} ({hook.platform}) deactivated: {reason}")

    async def _count(self, name: str) -> None:
        await self.client.hincrby(self.keys.webhook_stats(), name, 1)

    async def _notify(self, text: str) -> None:
        if self.owners_notify is None:
            return
        try:
            await self.owners_notify(text)
        except Exception:
            log.exception("owner notification failed")


def _channel_id(response: httpx.Response) -> str:
    """Discord's answer to ``?wait=true``: the message, whose ``channel_id`` is the thread."""
    with contextlib.suppress(ValueError, UnicodeDecodeError, RecursionError):
        body = response.json()
        if isinstance(body, dict) and isinstance(body.get("channel_id"), str | int):
            value = str(body["channel_id"])
            # Goes into a query string later: ids only (Discord's are decimal snowflakes).
            return value if value.isalnum() and len(value) <= 32 else ""
    return ""


def _short(response: httpx.Response) -> str:
    """The start of an error body for a dead letter (bounded; platform text, no secrets)."""
    text = response.text[:MAX_ERROR_TEXT]
    return " ".join(text.split())
