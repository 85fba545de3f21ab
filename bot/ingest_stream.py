"""The ingest journal: polled articles wait in a Redis Stream until they are processed.

Why a journal: the poller stores a feed's new ETag once the feed answered, and a
process can die at any instant after that. Articles are therefore written to the
stream *before* the feed's state is saved, and an entry is acknowledged (and
deleted) only after its digest entry reached the outbox. A worker that dies holds
its entries as pending in the consumer group: a restarted worker of the same name
reads them first, other workers claim them after ``claim_idle_ms`` (XAUTOCLAIM).
Entries read again are flagged ``redelivered`` so the pipeline can tell "my own
article, processed before the crash" from "the feed listed the same item again".
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

from bot import leases
from bot.keys import Keys
from digests.models import Article

log = logging.getLogger(__name__)

GROUP = "pipeline"
# A cap far above any backlog a healthy worker leaves; only a long-dead pipeline reaches
# it, and then the oldest unprocessed articles go (approximate trimming is O(1)).
MAX_LEN = 1_000_000
# The story turn (``stories.workers = "all"``): how long a silent holder keeps it, and how
# long a waiting worker blocks before it asks again when no hand-back wakes it (a turn
# lasts one batch's story work, tens of ms; a holder that died hands nothing back).
TURN_MS = 10_000
TURN_WAIT_S = 0.05


@dataclass(frozen=True, slots=True)
class Delivery:
    """One journaled article handed to this worker."""

    stream_id: bytes
    feed: str  # the feed's URL as configured ("" for articles pushed by /ingest)
    article: Article
    redelivered: bool


def default_consumer() -> str:
    # Stable across restarts on one host: a restarted worker finds its own pending entries.
    return f"worker-{socket.gethostname()}"


def article_to_json(article: Article) -> str:
    return json.dumps(
        {
            "id": article.id,
            "url": article.url,
            "canonical_url": article.canonical_url,
            "source": article.source,
            "title": article.title,
            "published": article.published.isoformat(),
            "language": article.language,
            "text": article.text,
            "guid": article.guid,
            "teaser_only": article.teaser_only,
        },
        ensure_ascii=False,
    )


def article_from_json(raw: bytes | str) -> Article:
    data: dict[str, Any] = json.loads(raw)
    return Article(
        id=data["id"],
        url=data["url"],
        canonical_url=data["canonical_url"],
        source=data["source"],
        title=data["title"],
        published=datetime.fromisoformat(data["published"]),
        language=data["language"],
        text=data["text"],
        guid=data.get("guid", ""),
        teaser_only=bool(data.get("teaser_only", False)),
    )


class IngestStream:
    """Writes articles to the journal and hands them out through a consumer group."""

    def __init__(
        self,
        client: aioredis.Redis,
        keys: Keys,
        consumer: str | None = None,
        claim_idle_ms: int = 60_000,
        turn_ms: int = TURN_MS,
    ) -> None:
        self.client = client
        self.turn_ms = turn_ms
        self.key = keys.ingest_stream()
        self.consumer = consumer or default_consumer()
        self.claim_idle_ms = claim_idle_ms
        self._leader_key = keys.ingest_leader()
        self._turn_key = keys.story_turn()
        self._turn_free_key = keys.story_turn_free()
        # The consumer name, stable across restarts: a restarted leader resumes at once
        # instead of waiting for its own lease to run out. Workers need distinct names
        # (the default is the host name; several on one host set DIGESTBOT_WORKER).
        self._token = self.consumer
        self._group_ready = False

    async def ensure_group(self) -> None:
        if self._group_ready:
            return
        try:
            await self.client.xgroup_create(self.key, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._group_ready = True

    async def add(self, items: Sequence[tuple[str, Article]]) -> None:
        """Journal ``(feed url, article)`` pairs, in order, in one round trip."""
        if not items:
            return
        await self.ensure_group()
        # All or none: in a plain pipeline a write refused for memory does not stop the
        # ones after it, and a gap in the journal would reorder the articles on resume.
        pipe = self.client.pipeline(transaction=True)
        for feed, article in items:
            fields: dict[Any, Any] = {"feed": feed, "article": article_to_json(article)}
            pipe.xadd(self.key, fields, maxlen=MAX_LEN, approximate=True)
        await pipe.execute()

    async def lead(self) -> bool:
        """Take or keep the right to process the journal for ``claim_idle_ms``.

        One worker at a time runs the pipeline: stories and fact novelty depend on
        the order of articles, and a single reader keeps the journal's order (an
        article is compared with every earlier one). The others poll and send; when
        the leader falls silent, the lease runs out and one of them takes over,
        starting with the articles the old leader had read and not acknowledged.
        """
        return await leases.take(self.client, self._leader_key, self._token, self.claim_idle_ms)

    @contextlib.asynccontextmanager
    async def story_turn(self) -> AsyncIterator[None]:
        """Hold the turn to decide stories while the body runs (``stories.workers = "all"``).

        Every worker does the text work of what it reads at once; story assignment and
        novelty compare an article with the stories before it, so their writes must not
        interleave. The turn is a lease kept alive while held: a worker that dies in its
        turn blocks the others for ``turn_ms`` at most.
        """
        while not await leases.take(self.client, self._turn_key, self._token, self.turn_ms):
            # Woken by the holder's hand-back (a list entry it pushes); polling instead
            # cost the waiting worker and the server a round trip every few ms.
            await self.client.blpop([self._turn_free_key], timeout=TURN_WAIT_S)
        keeper = asyncio.ensure_future(self._keep_turn())
        try:
            yield
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            try:
                await self._hand_back()
            except RedisError as exc:
                # The lease runs out by itself; the body's own outcome matters more.
                log.warning("could not hand the story turn back (%s)", exc)

    async def _hand_back(self) -> None:
        if await leases.release(self.client, self._turn_key, self._token):
            async with self.client.pipeline(transaction=True) as pipe:
                # One wake-up at most waits in the list: a worker that finds it stale
                # asks for the turn once more and blocks again.
                pipe.lpush(self._turn_free_key, 1)
                pipe.ltrim(self._turn_free_key, 0, 0)
                pipe.pexpire(self._turn_free_key, self.turn_ms)
                await pipe.execute()

    async def _keep_turn(self) -> None:
        while True:
            await asyncio.sleep(self.turn_ms / 3000)
            await leases.take(self.client, self._turn_key, self._token, self.turn_ms)

    async def resign(self) -> None:
        """Give the pipeline lease up (a clean stop), so another worker leads at once."""
        await leases.release(self.client, self._leader_key, self._token)

    async def read(self, count: int) -> list[Delivery]:
        """Up to ``count`` entries: this worker's own unacknowledged ones first, then
        entries of workers idle past ``claim_idle_ms``, then new ones."""
        await self.ensure_group()
        own = await self.client.xreadgroup(
            GROUP, self.consumer, {self.key: "0"}, count=count
        )
        got = self._deliveries(own, redelivered=True)
        if got:
            return got
        _, claimed, *_ = await self.client.xautoclaim(
            self.key, GROUP, self.consumer, self.claim_idle_ms, start_id="0-0", count=count
        )
        got = self._entries(claimed, redelivered=True)
        if got:
            log.info("claimed %d journaled articles of a stalled worker", len(got))
            return got
        fresh = await self.client.xreadgroup(GROUP, self.consumer, {self.key: ">"}, count=count)
        return self._deliveries(fresh, redelivered=False)

    async def ack(self, stream_ids: Sequence[bytes]) -> None:
        if not stream_ids:
            return
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.xack(self.key, GROUP, *stream_ids)
            pipe.xdel(self.key, *stream_ids)
            await pipe.execute()

    async def backlog(self) -> int:
        """Entries written and not yet acknowledged (read or not)."""
        return int(await self.client.xlen(self.key))

    def _deliveries(self, reply: Any, redelivered: bool) -> list[Delivery]:
        out: list[Delivery] = []
        for _stream, entries in reply or []:
            out.extend(self._entries(entries, redelivered))
        return out

    def _entries(self, entries: Any, redelivered: bool) -> list[Delivery]:
        out: list[Delivery] = []
        for stream_id, fields in entries or []:
            if not fields:
                # Trimmed or deleted after it was read: nothing left to process.
                continue
            feed = fields.get(b"feed", b"").decode()
            try:
                article = article_from_json(fields[b"article"])
            except (KeyError, ValueError, TypeError) as exc:
                # Written by another version or corrupted: processing it can never succeed.
                log.error("journal entry %r unreadable (%s); dropped", stream_id, exc)
                out.append(Delivery(stream_id, feed, _UNREADABLE, redelivered))
                continue
            out.append(Delivery(stream_id, feed, article, redelivered))
        return out


# Placeholder for an entry that cannot be decoded; the runner acknowledges it unprocessed.
_UNREADABLE = Article(
    id="",
    url="",
    canonical_url="",
    source="",
    title="",
    published=datetime.fromtimestamp(0).astimezone(),
    language="",
    text="",
)


def unreadable(delivery: Delivery) -> bool:
    return delivery.article is _UNREADABLE


__all__ = [
    "GROUP",
    "Delivery",
    "IngestStream",
    "article_from_json",
    "article_to_json",
    "default_consumer",
    "unreadable",
]
