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
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import redis.asyncio as aioredis

from bot.command_batch import CommandBatch, script_call
from bot.keys import Keys
from digests.boilerplate import remove_lines
from digests.models import Article

# Chrome lines are short; counting only these keeps memory small.
MAX_LINE_CHARS = 120
MIN_COUNT = 3
MIN_SHARE = 0.3
WEEK = 7 * 86400
TOTAL = "#articles"

# Reads the counts of this week and the last, and counts the article's lines once. The
# article's marker field keeps the counts it saw: a second call (a replay after a crash,
# when the articles after it in its batch were counted too) answers with those, so the
# replay cleans the article exactly as the first call did.
# KEYS: this week, last week. ARGV: TTL, article marker, fields (TOTAL first).
# Reply: the counts as the article first saw them (comma-joined; "1" from markers of
# older versions, which kept no counts).
_COUNT = """
local fields = {}
for i = 3, #ARGV do fields[#fields + 1] = ARGV[i] end
local seen = redis.call('HGET', KEYS[1], ARGV[2])
if seen then return seen end
local now = redis.call('HMGET', KEYS[1], unpack(fields))
local before = redis.call('HMGET', KEYS[2], unpack(fields))
local sums = {}
for k = 1, #fields do sums[k] = (tonumber(now[k]) or 0) + (tonumber(before[k]) or 0) end
seen = table.concat(sums, ',')
redis.call('HSET', KEYS[1], ARGV[2], seen)
for _, f in ipairs(fields) do redis.call('HINCRBY', KEYS[1], f, 1) end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return seen
"""
_SHA = hashlib.sha1(_COUNT.encode()).hexdigest()


def _line_digest(line: str) -> str:
    key = " ".join(line.split()).casefold()
    return hashlib.blake2b(key.encode(), digest_size=6).hexdigest()


class SourceLines:
    """Learns and removes the lines one source repeats across its articles."""

    def __init__(self, client: aioredis.Redis, keys: Keys) -> None:
        self.client = client
        self.keys = keys
        self.batch = CommandBatch(client, {_SHA: _COUNT})

    async def clean(self, article: Article, now: datetime) -> Article:
        return (await self.clean_many([article], now))[0]

    async def clean_many(self, articles: Sequence[Article], now: datetime) -> list[Article]:
        """Count and clean ``articles`` in order, in one round trip: the server runs the
        counts one after another, so each article sees the ones before it as if they had
        been cleaned one by one."""
        lines = [_short_lines(article) for article in articles]
        week = int(now.timestamp()) // WEEK
        commands = [
            script_call(
                _SHA,
                [
                    self.keys.source_lines(article.source, week),
                    self.keys.source_lines(article.source, week - 1),
                ],
                3 * WEEK,
                "a:" + hashlib.blake2b(article.id.encode(), digest_size=8).hexdigest(),
                TOTAL,
                *own,
            )
            for article, own in zip(articles, lines, strict=True)
        ]
        replies = await self.batch.run(commands)
        return [
            _cleaned(article, own, reply)
            for article, own, reply in zip(articles, lines, replies, strict=True)
        ]


def _short_lines(article: Article) -> dict[str, str]:
    return {
        _line_digest(line): line
        for line in article.text.split("\n")
        if 0 < len(line.strip()) <= MAX_LINE_CHARS
    }


def _cleaned(article: Article, lines: dict[str, str], reply: Any) -> Article:
    record = reply.decode() if isinstance(reply, bytes) else str(reply)
    counts = [int(c) for c in record.split(",")]
    if len(counts) != len(lines) + 1:
        # A marker of an older version (which kept no counts) or of another text under
        # the same id: keep the text rather than guess what the article saw.
        return article
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
