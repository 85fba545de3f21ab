"""Per-source boilerplate: a line one outlet repeats in its articles stops being news."""

from __future__ import annotations

from datetime import UTC, datetime

import redis.asyncio as aioredis

from bot.keys import Keys
from bot.source_lines import SourceLines
from digests.models import Article

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
CHROME = "Alle Nachrichten aus dem Oberland jeden Morgen im Postfach"


def article(i: int, source: str = "Oberland Bote", chrome: bool = True) -> Article:
    body = f"Der Gemeinderat von Ort {i} hat am Montag den Haushalt für {2026 + i} beschlossen."
    text = f"{body}\n{CHROME}" if chrome else body
    return Article(
        id=f"a{i}",
        url=f"https://ob.example/{i}",
        canonical_url=f"https://ob.example/{i}",
        source=source,
        title=f"Haushalt {i}",
        published=NOW,
        language="de",
        text=text,
    )


async def test_a_line_repeated_by_one_source_is_learned_and_dropped(
    redis_client: aioredis.Redis, keys: Keys
) -> None:
    lines = SourceLines(redis_client, keys)
    seen = [await lines.clean(article(i), NOW) for i in range(5)]
    # The first articles keep it: nothing is known about the source yet.
    assert CHROME in seen[0].text
    # Once it showed up in three earlier articles it is the source's chrome.
    assert CHROME not in seen[4].text
    assert "Haushalt für 2030" in seen[4].text
    # Another outlet that prints the same sentence once is not affected.
    other = await lines.clean(article(9, source="Talblatt"), NOW)
    assert CHROME in other.text


async def test_an_article_cleaned_again_after_a_crash_counts_once(
    redis_client: aioredis.Redis, keys: Keys
) -> None:
    lines = SourceLines(redis_client, keys)
    first = [await lines.clean(article(i), NOW) for i in range(2)]
    # A worker that died after cleaning article 1 replays it, again and again.
    replays = [await lines.clean(article(1), NOW) for _ in range(4)]
    assert all(r.text == first[1].text for r in replays)
    assert CHROME in replays[-1].text
    # Two articles had the line, not six: the third still keeps it.
    assert CHROME in (await lines.clean(article(2), NOW)).text


async def test_a_replay_cleans_as_the_first_pass_did_when_later_articles_were_counted(
    redis_client: aioredis.Redis, keys: Keys
) -> None:
    lines = SourceLines(redis_client, keys)
    first = [await lines.clean(article(i), NOW) for i in range(3)]
    # Articles 3-5 of the same batch were counted before the worker died, so the line now
    # has six counts; article 2, replayed, saw two before it and must still keep it.
    later = await lines.clean_many([article(i) for i in range(3, 6)], NOW)
    assert CHROME not in later[-1].text
    replayed = await lines.clean(article(2), NOW)
    assert replayed.text == first[2].text
    assert CHROME in replayed.text
