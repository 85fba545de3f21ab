"""Prometheus metrics of one ``digestbot serve`` process (``GET /metrics``).

One registry per server (not the process-global one), so several servers in one
process — tests — do not collide. Pipeline counters move as articles flow
(:meth:`Metrics.observe_outcomes`); the senders keep their own counters and
latency samples, which :meth:`Metrics.refresh` folds in at scrape time together
with the Redis gauges (outbox depth, dead letters), so no sender code needs to
know about Prometheus.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from bot.keys import Keys
from digests.digest import Outcome

CONTENT_TYPE = CONTENT_TYPE_LATEST
SINKS = ("telegram", "webhook")
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 3600.0)


class SenderStats(Protocol):
    """What both senders' stats objects offer (``DeliveryStats``, ``WebhookStats``)."""

    retry_after: int
    dead: int

    @property
    def latencies(self) -> Any: ...


@dataclass(slots=True)
class _Seen:
    sent: int = 0
    retry_after: int = 0
    dead: int = 0


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.articles = Counter(
            "digestbot_articles_fetched",
            "Articles read from feeds or ingested",
            ["via"],
            registry=r,
        )
        self.duplicates = Counter("digestbot_duplicates", "Articles dropped as repeats", registry=r)
        self.stories = Counter("digestbot_stories", "New stories started", registry=r)
        self.updates = Counter(
            "digestbot_story_updates", "Story updates with new facts", registry=r
        )
        self.facts = Counter("digestbot_facts_posted", "Facts in digest entries", registry=r)
        self.feed_errors = Counter("digestbot_feed_errors", "Failed feed fetches", registry=r)
        self.cycles = Counter("digestbot_poll_cycles", "Polling cycles completed", registry=r)
        self.outbox_depth = Gauge(
            "digestbot_outbox_depth", "Outbox messages not yet delivered", ["sink"], registry=r
        )
        self.dead_letters = Gauge("digestbot_dead_letters", "Dead letters kept", registry=r)
        self.sent = Counter("digestbot_messages_sent", "Messages posted", ["sink"], registry=r)
        self.rate_limited = Counter(
            "digestbot_rate_limited", "429 answers obeyed", ["sink"], registry=r
        )
        self.dead = Counter(
            "digestbot_dead_lettered", "Digests dead-lettered", ["sink"], registry=r
        )
        self.latency = Histogram(
            "digestbot_send_latency_seconds",
            "From outbox to the platform's acceptance",
            ["sink"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.requests = Counter(
            "digestbot_http_requests", "Requests answered", ["endpoint", "status"], registry=r
        )
        self._seen: dict[str, _Seen] = {}
        # Every series exists from the start (at 0), so rates and alerts work before the
        # first event.
        for via in ("poll", "ingest"):
            self.articles.labels(via)
        for sink in SINKS:
            for family in (self.sent, self.rate_limited, self.dead, self.latency):
                family.labels(sink)
            self.outbox_depth.labels(sink)

    # -- the pipeline -------------------------------------------------------------------
    def observe_outcomes(self, outcomes: Iterable[Outcome], via: str) -> None:
        for outcome in outcomes:
            self.articles.labels(via).inc()
            if outcome.status == "duplicate":
                self.duplicates.inc()
            elif outcome.status == "new_story":
                self.stories.inc()
            elif outcome.status == "update":
                self.updates.inc()
            if outcome.entry is not None:
                self.facts.inc(len(outcome.entry.facts))

    def observe_cycle(self, feed_errors: int) -> None:
        self.cycles.inc()
        if feed_errors:
            self.feed_errors.inc(feed_errors)

    # -- at scrape time -------------------------------------------------------------------
    def fold_sender(self, sink: str, stats: SenderStats, sent: int) -> None:
        """Add what a sender did since the last scrape (its counters only grow)."""
        seen = self._seen.setdefault(sink, _Seen())
        new_sent = max(0, sent - seen.sent)
        if new_sent:
            self.sent.labels(sink).inc(new_sent)
            samples: Sequence[float] = list(stats.latencies)[-new_sent:]
            for value in samples:
                self.latency.labels(sink).observe(value)
        if stats.retry_after > seen.retry_after:
            self.rate_limited.labels(sink).inc(stats.retry_after - seen.retry_after)
        if stats.dead > seen.dead:
            self.dead.labels(sink).inc(stats.dead - seen.dead)
        self._seen[sink] = _Seen(sent, stats.retry_after, stats.dead)

    async def refresh_redis(self, client: aioredis.Redis, keys: Keys) -> None:
        pipe = client.pipeline(transaction=False)
        pipe.xlen(keys.outbox_stream())
        pipe.xlen(keys.webhook_stream())
        pipe.xlen(keys.outbox_dead())
        telegram, webhook, dead = await pipe.execute()
        self.outbox_depth.labels("telegram").set(int(telegram))
        self.outbox_depth.labels("webhook").set(int(webhook))
        self.dead_letters.set(int(dead))

    def render(self) -> bytes:
        return generate_latest(self.registry)
