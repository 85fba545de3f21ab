"""Per-source boilerplate learned from what each source repeats.

Every source has its own chrome ("Mehr aus Sachsen", its newsletter pitch, a
standard credit line) that no fixed list can know. Short lines are counted per
source in Redis, once per article; a line that showed up in at least
``MIN_COUNT`` earlier articles and in at least ``MIN_SHARE`` of the source's
articles is that source's chrome and is dropped before facts are extracted.
Counts live in weekly hashes so they follow a site's redesigns and expire.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime

import redis.asyncio as aioredis

from bot.keys import Keys
from digests.boilerplate import remove_lines
from digests.models import Article

# Chrome lines are short; counting only these keeps memory small.
MAX_LINE_CHARS = 120
MIN_COUNT = 3
MIN_SHARE = 0.3
WEEK = 7 * 86400
TOTAL = "#articles"


def _line_digest(line: str) -> str:
    key = " ".join(line.split()).casefold()
    return hashlib.blake2b(key.encode(), digest_size=6).hexdigest()


class SourceLines:
    """Learns and removes the lines one source repeats across its articles."""

    def __init__(self, client: aioredis.Redis, keys: Keys) -> None:
        self.client = client
        self.keys = keys

    async def clean(self, article: Article, now: datetime) -> Article:
        lines = {
            _line_digest(line): line
            for line in article.text.split("\n")
            if 0 < len(line.strip()) <= MAX_LINE_CHARS
        }
        week = int(now.timestamp()) // WEEK
        current = self.keys.source_lines(article.source, week)
        previous = self.keys.source_lines(article.source, week - 1)
        fields = [TOTAL, *lines]
        pipe = self.client.pipeline(transaction=False)
        pipe.hmget(current, fields)
        pipe.hmget(previous, fields)
        for digest in fields:
            pipe.hincrby(current, digest, 1)
        pipe.expire(current, 3 * WEEK)
        now_counts, old_counts, *_ = await pipe.execute()
        counts = [int(a or 0) + int(b or 0) for a, b in zip(now_counts, old_counts, strict=True)]
        total = counts[0]
        if total < MIN_COUNT:
            return article
        recurring = {
            line
            for (digest, line), seen in zip(lines.items(), counts[1:], strict=True)
            if seen >= MIN_COUNT and seen >= MIN_SHARE * total
        }
        if not recurring:
            return article
        return replace(article, text=remove_lines(article.text, recurring))
