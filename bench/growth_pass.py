"""Cost per article in stores that ``bench/pipeline.py --runs 0`` filled, measured later.

    python bench/growth_pass.py --redis-url URL [--small grow10000] [--large grow1000000]

A large fill can outlast a session; ``bench/pipeline.py`` keeps its stores under the
prefixes ``grow<size>``, so a fill that was stopped leaves a store of whatever size it
reached. This counts what each store holds (its article → story links) and runs the
1,028 real 10kGNAD articles through both, in two halves that alternate between the
stores so both meet the machine alike, as ``digestbot`` would (collector tuned, the
product's connection). Prints ms and client CPU per article and the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path

import redis.asyncio as aioredis

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from pipeline import CPU, START, load_texts, pipeline_for, real_articles, timed_pass  # noqa: E402

from bot.collector import tune_collector  # noqa: E402
from bot.keys import Keys  # noqa: E402
from bot.redis_conn import connect  # noqa: E402


async def stored(client: aioredis.Redis, prefix: str) -> int:
    return sum([1 async for _ in client.scan_iter(match=f"{prefix}:a2s:*", count=5000)])


async def measured_before(client: aioredis.Redis, prefix: str) -> bool:
    """Whether ``bench/pipeline.py`` already ran its measured pass through this store: its
    real articles are then stored, and the same texts here would all be duplicates."""
    size = prefix.removeprefix("grow")
    return bool(await client.exists(Keys(prefix).article_story(f"g{size}-0")))


async def run(args: argparse.Namespace) -> None:
    client = await connect(args.redis_url, 30.0)
    try:
        texts = load_texts()
        tune_collector()
        prefixes = (args.small, args.large)
        sizes = {p: await stored(client, p) for p in prefixes}
        print("stored articles:", sizes, flush=True)
        seen = [p for p in prefixes if await measured_before(client, p)]
        if seen:
            sys.exit(
                f"{', '.join(seen)}: bench/pipeline.py already measured these stores, so the "
                "real articles would all be duplicates here; use stores of a fill that was "
                "stopped before its measured pass"
            )
        # this process's caches (lexicons, lemmas) warm on a store of its own first
        warm = real_articles(texts, "warm-growth", START)
        await timed_pass(pipeline_for(client, "warm-growth"), warm, datetime.now(UTC))
        ms: dict[str, list[float]] = {p: [] for p in prefixes}
        half = len(texts) // 2
        for part, cut in (("a", slice(0, half)), ("b", slice(half, None))):
            for prefix in prefixes:
                arts = real_articles(texts, f"g{prefix}{part}", START)[cut]
                secs = await timed_pass(pipeline_for(client, prefix), arts, datetime.now(UTC))
                ms[prefix].append(secs / len(arts) * 1000)
                cpu = CPU["seconds"] / len(arts) * 1000
                print(
                    f"{prefix} half {part}: {ms[prefix][-1]:.3f} ms/article (client CPU {cpu:.3f})",
                    flush=True,
                )
        small, large = (sum(ms[p]) / len(ms[p]) for p in prefixes)
        print(
            f"{small:.3f} ms/article with {sizes[args.small]:,} stored, {large:.3f} with "
            f"{sizes[args.large]:,}: {large / small:.2f}x"
        )
    finally:
        await client.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--small", default="grow10000")
    parser.add_argument("--large", default="grow1000000")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
