"""The main job: poll the feeds, run new articles through the pipeline, deliver digests."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from redis.exceptions import RedisError

from bot.config import Config, FeedConfig
from bot.ingest_stream import IngestStream, unreadable
from bot.outbox import Outbox
from bot.pipeline import CLAIM_BATCH, Pipeline
from bot.poller import FetchResult, Poller
from bot.sinks import Sink
from bot.sources import articles_from_bytes
from digests.digest import Outcome
from digests.html_text import extract_main_text
from digests.models import Article

log = logging.getLogger(__name__)

# After SIGTERM, a cycle gets this long to reach a batch boundary before it is cancelled.
# Cancelling is safe with the ingest journal: unacknowledged articles are redelivered on
# the next start, exactly as after a crash.
STOP_GRACE_S = 3.0
# Longest wait between two tries while Redis is unreachable.
REDIS_RETRY_MAX_S = 30.0


@dataclass(slots=True)
class CycleReport:
    """What one polling cycle did, per feed and in total."""

    fetched: int = 0
    not_modified: int = 0
    feed_errors: dict[str, str] = field(default_factory=dict)
    articles: int = 0
    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)


def utc_now() -> datetime:
    return datetime.now(UTC)


class Runner:
    """Wires the poller, the pipeline and the sinks for ``digestbot run``."""

    def __init__(
        self,
        cfg: Config,
        poller: Poller,
        pipeline: Pipeline,
        sinks: Sequence[Sink],
        clock: Callable[[], datetime] = utc_now,
        outbox: Outbox | None = None,
        journal: IngestStream | None = None,
    ) -> None:
        self.cfg = cfg
        self.poller = poller
        self.pipeline = pipeline
        self.sinks = sinks
        self.clock = clock
        self.outbox = outbox
        self.journal = journal

    async def _full_text(self, feed: FeedConfig, article: Article) -> Article:
        wanted = feed.full_text == "always" or (feed.full_text == "auto" and article.teaser_only)
        if not wanted or not article.url.startswith(("http://", "https://")):
            return article
        page = await self.poller.fetch_page(article.url)
        text = extract_main_text(page, article.url) if page else None
        if text and len(text) > len(article.text):
            return replace(article, text=text, teaser_only=False)
        return article

    def _articles(self, feed: FeedConfig, result: FetchResult, now: datetime) -> list[Article]:
        loaded = articles_from_bytes(
            result.body,
            name=result.final_url or feed.url,
            source=feed.name or feed.url,
            now=now,
            content_type=result.content_type or None,
        )
        for problem in loaded.errors:
            log.warning("feed %s: %s", feed.name or feed.url, problem)
        if feed.language:
            return [replace(a, language=feed.language) for a in loaded.articles]
        return loaded.articles

    async def cycle(
        self,
        feeds: Sequence[FeedConfig],
        *,
        force: bool = False,
        stop: asyncio.Event | None = None,
    ) -> CycleReport:
        """Poll, journal and process; with ``stop``, give up early once it is set."""
        report = CycleReport()
        journal = self.journal
        poll = self.poller.poll(feeds, force=force, hold_state=journal is not None)
        if stop is None or journal is None:
            results = await poll
        else:
            # Fetches in flight are dropped on stop: with the journal nothing is committed yet.
            fetching = asyncio.ensure_future(poll)
            stopping = asyncio.ensure_future(stop.wait())
            await asyncio.wait({fetching, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if not fetching.done():
                fetching.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await fetching
                return report
            results = fetching.result()
        now = self.clock()
        batches: list[tuple[FeedConfig, list[Article]]] = []
        for feed, result in zip(feeds, results, strict=True):
            if result.status == "ok":
                if stop is not None and journal is not None and stop.is_set():
                    return report  # nothing journaled, no ETag saved: the next start refetches
                report.fetched += 1
                # In a worker thread: a 5 MB feed parses for seconds, which must stall neither
                # sends and commands nor the reaction to SIGTERM.
                articles = await asyncio.to_thread(self._articles, feed, result, now)
                articles.sort(key=lambda a: a.published)
                batches.append((feed, articles))
            elif result.status == "not_modified":
                report.not_modified += 1
            elif result.status in ("error", "deactivated"):
                report.feed_errors[feed.name or feed.url] = result.error or result.status
        # Oldest first across feeds, so a story starts with its first report.
        ordered = sorted(
            ((feed, a) for feed, arts in batches for a in arts), key=lambda fa: fa[1].published
        )
        if journal is None:
            for start in range(0, len(ordered), CLAIM_BATCH):
                chunk = ordered[start : start + CLAIM_BATCH]
                await self._process(chunk, [False] * len(chunk), now, report)
        else:
            await journal.add([(feed.url, article) for feed, article in ordered])
            # Only now that the articles are journaled may the feeds' new ETags be saved.
            for result in results:
                if result.commit is not None:
                    await result.commit()
            await self.drain(feeds, report, now, stop)
        entries = [o.entry for o in report.outcomes if o.entry is not None]
        for sink in self.sinks:
            await sink.deliver(entries)
        return report

    async def drain(
        self,
        feeds: Sequence[FeedConfig],
        report: CycleReport,
        now: datetime,
        stop: asyncio.Event | None = None,
    ) -> None:
        """Process journaled articles until none is left for this worker (or ``stop``)."""
        assert self.journal is not None
        by_url = {feed.url: feed for feed in feeds}
        # A stop ends the drain between batches; what is left stays in the journal. So does
        # everything while another worker leads the pipeline (see IngestStream.lead), unless
        # all workers share it (``stories.workers = "all"``, see IngestStream.story_turn).
        shared = self.cfg.stories.workers == "all"
        while (
            not (stop is not None and stop.is_set())
            and (shared or await self.journal.lead())
            and (deliveries := await self.journal.read(CLAIM_BATCH))
        ):
            usable = [d for d in deliveries if not unreadable(d)]
            chunk = [(by_url.get(d.feed) or FeedConfig(url=d.feed), d.article) for d in usable]
            await self._process(chunk, [d.redelivered for d in usable], now, report)
            await self.journal.ack([d.stream_id for d in deliveries])

    async def _process(
        self,
        chunk: Sequence[tuple[FeedConfig, Article]],
        redelivered: Sequence[bool],
        now: datetime,
        report: CycleReport,
    ) -> None:
        texts = [await self._full_text(feed, article) for feed, article in chunk]
        report.articles += len(chunk)
        if self.journal is not None and self.cfg.stories.workers == "all":
            # The text work in parallel with the other workers, the story work in turn.
            plans = await self.pipeline.prepare(texts, now, redelivered)
            async with self.journal.story_turn():
                outcomes = await self.pipeline.decide(plans)
        else:
            outcomes = await self.pipeline.process_many(texts, now, redelivered)
        for (feed, _), outcome in zip(chunk, outcomes, strict=True):
            report.outcomes.append(outcome)
            if self.outbox is not None and outcome.entry is not None:
                # Subscriptions name feeds by the same label the articles carry as source.
                await self.outbox.fan_out(outcome.entry, feed.name or feed.url, now)

    async def run_forever(self, feeds: Sequence[FeedConfig], stop: asyncio.Event) -> None:
        """Cycle until ``stop`` is set; each feed is fetched only when it is due."""
        # Wake as often as the most frequent feed needs; the poller skips feeds not yet due.
        tick = min([float(f.interval or self.cfg.poller.interval) for f in feeds] + [60.0])
        outages = 0
        while not stop.is_set():
            cycle = asyncio.ensure_future(self.cycle(feeds, stop=stop))
            stopping = asyncio.ensure_future(stop.wait())
            await asyncio.wait({cycle, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if not cycle.done():
                # Stopping: the cycle ends at its next batch boundary, or is cut off.
                await asyncio.wait({cycle}, timeout=STOP_GRACE_S)
                if not cycle.done():
                    log.info("stopping: cancelling the cycle (its articles stay journaled)")
                    cycle.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await cycle
                return
            try:
                report = cycle.result()
            except (RedisError, OSError) as exc:
                # Redis restarting or failing over: nothing of the cycle was acknowledged,
                # so waiting and running it again loses nothing. redis-py reconnects.
                outages += 1
                delay = min(REDIS_RETRY_MAX_S, 2.0 ** (outages - 1))
                log.warning("store unavailable (%s); next try in %.0f s", exc, delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=delay)
                continue
            if outages:
                log.info("store reachable again after %d failed cycle(s)", outages)
                outages = 0
            log.info(
                "cycle: %d fetched, %d not modified, %d errors, %d articles",
                report.fetched,
                report.not_modified,
                len(report.feed_errors),
                report.articles,
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=max(1.0, tick))


__all__ = ["CycleReport", "Runner"]
