"""Handing unfinished outbox messages to the next process when a sender stops.

A sender reads outbox messages into its consumer's pending list before it
sends them. When it stops (SIGTERM) with messages it has read but not finished,
they stay pending under its consumer name, and another process takes them over
only once they have been idle for ``claim_idle_ms`` (``poller.takeover_after``): the safe rule
for a process that *died*, since its sends might still be under way. A process
that stopped cleanly knows its sends are over, so it marks its leftovers as
idle for that long already (``XCLAIM … IDLE``) and the next sender to start —
or any running one — claims them at once. Nothing is resent: the part markers
still decide which parts went out.
"""

from __future__ import annotations

import logging
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

BATCH = 500


async def release_pending(
    client: aioredis.Redis, stream: str, group: str, consumer: str, idle_ms: int
) -> int:
    """Make every message pending for ``consumer`` claimable now; returns how many."""
    released = 0
    start = "-"
    try:
        while True:
            pending = await client.xpending_range(
                stream, group, min=start, max="+", count=BATCH, consumername=consumer
            )
            ids: list[Any] = [p["message_id"] for p in pending]
            if ids:
                await client.xclaim(stream, group, consumer, 0, ids, idle=idle_ms, justid=True)
                released += len(ids)
            if len(pending) < BATCH:
                break
            last = ids[-1]
            start = "(" + (last.decode() if isinstance(last, bytes) else str(last))
    except RedisError as exc:
        # Not fatal: the messages are still pending and get claimed after the idle time.
        log.warning("outbox hand-over failed (%s); others take over after the idle time", exc)
    if released:
        log.info("handed %d unfinished outbox messages over to the next sender", released)
    return released


__all__ = ["release_pending"]
