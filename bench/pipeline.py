"""Whole-pipeline throughput on real German news text, and its cost as the store grows.

    python bench/pipeline.py [--sizes 10000,200000] [--runs 3] [--redis-url URL]

The measured articles are the 1,028 real articles of the 10kGNAD test split,
each through dedup claim, story assignment, fact extraction, novelty and
rendering (Telegram HTML), one process, one asyncio task: the "one core" of
the figure (the Redis server runs in its own process and is reported apart).
To grow the store, synthetic articles are made by recombining sentences of
different real articles with a seeded RNG, and go through the same pipeline.
Prints a table and writes bench/results-pipeline.json.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import random
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis.asyncio as aioredis

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.collector import tune_collector  # noqa: E402
from bot.config import Config  # noqa: E402
from bot.dedup_store import DedupSettings, DedupStore  # noqa: E402
from bot.keys import Keys  # noqa: E402
from bot.pipeline import CLAIM_BATCH, Pipeline  # noqa: E402
from bot.redis_conn import EmbeddedServer, connect  # noqa: E402
from bot.source_lines import SourceLines  # noqa: E402
from bot.story_store import StoryStore  # noqa: E402
from digests.models import Article  # noqa: E402
from digests.render import render_messages  # noqa: E402
from digests.sentences import split_sentences  # noqa: E402

CORPUS = REPO.parent / "shared" / "corpora" / "10kgnad-test" / "test.csv"
START = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)


def load_texts() -> list[str]:
    csv.field_size_limit(10_000_000)
    with CORPUS.open(encoding="utf-8", newline="") as fh:
        return [row[1] for row in csv.reader(fh, delimiter=";", quotechar="'") if len(row) >= 2]


def real_articles(texts: list[str], tag: str, start: datetime) -> list[Article]:
    out = []
    for i, text in enumerate(texts):
        title = split_sentences(text[:300], "de")[0][:120] if text else f"Artikel {i}"
        out.append(
            Article(
                id=f"{tag}-{i}",
                url=f"https://bench.invalid/{tag}/{i}",
                canonical_url=f"https://bench.invalid/{tag}/{i}",
                source=f"source{i % 40}",
                title=title,
                published=start + timedelta(minutes=7 * i),
                language="de",
                text=text,
            )
        )
    return out


def synthetic(pool: list[str], n: int, rng: random.Random, start: datetime) -> list[Article]:
    out = []
    step = timedelta(seconds=max(1, int(30 * 86400 / max(n, 1))))
    for i in range(n):
        k = rng.randint(4, 9)
        sents = rng.sample(pool, k)
        out.append(
            Article(
                id=f"syn-{i}",
                url=f"https://fill.invalid/{i}",
                canonical_url=f"https://fill.invalid/{i}",
                source=f"filler{i % 97}",
                title=sents[0][:100],
                published=start + step * i,
                language="de",
                text=" ".join(sents[1:]),
            )
        )
    return out


def pipeline_for(client: aioredis.Redis, prefix: str) -> Pipeline:
    cfg = Config()
    keys = Keys(prefix)
    dedup = DedupStore(
        client,
        keys,
        DedupSettings(
            ttl_days=cfg.dedup.ttl_days,
            shards=cfg.dedup.shards,
            near_threshold=cfg.dedup.near_threshold,
        ),
    )
    stories = StoryStore(
        client, keys, window_hours=cfg.stories.window_hours, ttl_days=cfg.stories.inactivity_days
    )
    return Pipeline(dedup, stories, cfg.digest, cfg.stories, SourceLines(client, keys))


CPU = {"seconds": 0.0}  # this process's CPU time in the timed passes


def round_trips(pipe: Pipeline) -> int:
    counters = (
        pipe.dedup,
        pipe.stories.batch,
        pipe.source_lines.batch if pipe.source_lines else None,
    )
    return sum(getattr(c, "round_trips", 0) for c in counters if c is not None)


async def timed_pass(pipe: Pipeline, articles: list[Article], now: datetime) -> float:
    """Seconds for the whole pipeline, rendering included, over ``articles``, claimed in
    batches of CLAIM_BATCH as ``digestbot run`` does."""
    t0 = time.perf_counter()
    c0 = time.process_time()
    for start in range(0, len(articles), CLAIM_BATCH):
        for outcome in await pipe.process_many(articles[start : start + CLAIM_BATCH], now):
            if outcome.entry is not None:
                render_messages([outcome.entry], "telegram", "de")
    CPU["seconds"] = time.process_time() - c0
    return time.perf_counter() - t0


def _fill_part(url: str, prefix: str, articles: list[Article]) -> None:
    async def fill() -> None:
        client = await connect(url, 30.0)  # the product's connection
        try:
            pipe = pipeline_for(client, prefix)
            wall = datetime.now(UTC)
            for start in range(0, len(articles), CLAIM_BATCH):
                await pipe.process_many(articles[start : start + CLAIM_BATCH], wall)
        finally:
            await client.aclose()

    asyncio.run(fill())


async def fill_store(url: str, prefix: str, articles: list[Article], workers: int) -> None:
    """Put ``articles`` through the pipeline into the store, in ``workers`` processes (the
    fill only builds the state that is measured afterwards; it is not itself measured)."""
    if workers <= 1:
        await asyncio.to_thread(_fill_part, url, prefix, articles)
        return
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(workers) as pool:
        await asyncio.gather(
            *(
                loop.run_in_executor(pool, _fill_part, url, prefix, articles[i::workers])
                for i in range(workers)
            )
        )


async def used_memory(client: aioredis.Redis) -> int:
    info = await client.info("memory")
    return int(info["used_memory"])


async def run(args: argparse.Namespace) -> dict[str, object]:
    texts = load_texts()
    pool = [s for t in texts for s in split_sentences(t, "de") if 40 <= len(s) <= 300]
    rng = random.Random(20261121)
    results: dict[str, object] = {"articles": len(texts)}
    tune_collector()  # as `digestbot` does at start
    with tempfile.TemporaryDirectory() as tmp:
        server = None
        url = args.redis_url
        if not url:
            server = EmbeddedServer(Path(tmp))
            url = server.start()
        client = await connect(url, 30.0)  # the product's connection
        try:
            # (1) plain throughput on a fresh store, median of runs
            rates: list[float] = []
            cpu_ms: list[float] = []
            for run_no in range(args.runs):
                await client.flushdb()
                pipe = pipeline_for(client, f"bench{run_no}")
                arts = real_articles(texts, f"r{run_no}", START)
                trips = round_trips(pipe)
                secs = await timed_pass(pipe, arts, datetime.now(UTC))
                rates.append(len(arts) / secs)
                cpu_ms.append(CPU["seconds"] / len(arts) * 1000)
                trips = round_trips(pipe) - trips
                print(
                    f"fresh store run {run_no + 1}: {len(arts) / secs:7.1f} articles/s, "
                    f"client CPU {cpu_ms[-1]:.2f} ms/article, "
                    f"{trips / len(arts):.2f} round trips/article"
                )
            results["fresh_rates"] = rates
            if rates:  # --runs 0: growth only
                results["fresh_median"] = statistics.median(rates)
                results["client_cpu_ms_median"] = statistics.median(cpu_ms)

            # (2) cost per article as the store grows. Each size gets a store of its own
            # (its own key prefix), filled with that many synthetic articles (spread over the
            # month before). Once all are filled, the real articles go through each store
            # once, back to back so that the passes meet the same machine: new to that
            # store, every one takes the full path (a second pass would measure duplicates).
            growth: list[dict[str, float]] = []
            await client.flushdb()
            filled = []
            for size in args.sizes:
                before = await used_memory(client)
                fill = synthetic(pool, size, rng, START - timedelta(days=40))
                t0 = time.perf_counter()
                await fill_store(url, f"grow{size}", fill, args.fill_workers)
                fill_secs = time.perf_counter() - t0
                filled.append((size, fill_secs, await used_memory(client) - before))
                print(f"{size:>8} stored: filled at {size / fill_secs:.0f}/s", flush=True)
            # The fills ran in other processes: warm this one's caches (lexicons, lemmas)
            # on a store of its own first, or the first measured pass pays for them.
            await timed_pass(
                pipeline_for(client, "warm"), real_articles(texts, "warm", START), datetime.now(UTC)
            )
            for size, fill_secs, mem in filled:
                pipe = pipeline_for(client, f"grow{size}")
                arts = real_articles(texts, f"g{size}", START)
                secs = await timed_pass(pipe, arts, datetime.now(UTC))
                row = {
                    "stored": size,
                    "fill_rate": size / fill_secs if fill_secs else 0.0,
                    "ms_per_article": secs / len(arts) * 1000,
                    "client_cpu_ms_per_article": CPU["seconds"] / len(arts) * 1000,
                    "redis_bytes_per_article": mem / size,
                }
                growth.append(row)
                print(
                    f"{size:>8} stored: {row['ms_per_article']:.3f} ms/article "
                    f"(client CPU {row['client_cpu_ms_per_article']:.3f}) over the "
                    f"{len(arts)} real ones, Redis "
                    f"{row['redis_bytes_per_article']:.0f} B/article (all state: dedup, stories, "
                    "facts)",
                    flush=True,
                )
            results["growth"] = growth
            if len(growth) >= 2:
                ratio = growth[-1]["ms_per_article"] / growth[0]["ms_per_article"]
                results["cost_ratio"] = ratio
        finally:
            await client.aclose()
            if server is not None:
                server.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,200000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--redis-url", default="")
    parser.add_argument(
        "--fill-workers", type=int, default=1, help="processes that fill the store (not timed)"
    )
    args = parser.parse_args()
    args.sizes = [int(s) for s in args.sizes.split(",")]
    if not CORPUS.exists():
        sys.exit(f"{CORPUS} not found")
    results = asyncio.run(run(args))
    print()
    if "fresh_median" in results:
        print(
            f"pipeline, fresh store: {results['fresh_median']:.1f} articles/s (median of "
            f"{args.runs}; one process; Redis in its own process)"
        )
    if "cost_ratio" in results:
        g = results["growth"]
        print(
            f"cost per article at {g[-1]['stored']} stored / at {g[0]['stored']} stored: "  # type: ignore[index]
            f"{results['cost_ratio']:.2f}x"
        )
    (REPO / "bench" / "results-pipeline.json").write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
