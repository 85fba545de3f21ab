"""Pipeline throughput of one worker against two sharing it, on this machine.

    python bench/workers.py [--articles 3000] [--runs 3] [--redis-url URL]

A journal of real German articles (the 1,028 of the 10kGNAD test split) plus
synthetic ones recombined from their sentences is drained by worker processes
through the product's own drain loop (``Runner.drain``: journal read, dedup,
source lines, text work, stories, novelty, acknowledgement), three ways:

* one worker, ``stories.workers = "one"`` (the default: a pipeline leader);
* one worker, ``stories.workers = "all"`` (the cost of taking turns alone);
* two workers, ``stories.workers = "all"``: both do text work, story work in turn.

Every process warms its caches on other articles first and starts on a shared
signal; the time is from that signal until the journal is empty. The Redis
server runs on the same two cores. Prints the medians and the ratio of two
workers to one, and writes bench/results-workers.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import random
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from multiprocessing.synchronize import Event as MpEvent
from pathlib import Path
from typing import Any, cast

import redis.asyncio as aioredis

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from pipeline import load_texts, real_articles, synthetic  # noqa: E402

from bot.cli import _pipeline  # noqa: E402
from bot.collector import tune_collector  # noqa: E402
from bot.config import Config  # noqa: E402
from bot.ingest_stream import IngestStream  # noqa: E402
from bot.keys import Keys  # noqa: E402
from bot.redis_conn import EmbeddedServer, connect  # noqa: E402
from bot.runner import CycleReport, Runner  # noqa: E402
from digests.facts import extract_facts  # noqa: E402
from digests.models import Article  # noqa: E402
from digests.sentences import split_sentences  # noqa: E402
from digests.stories import article_profile  # noqa: E402

START = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)


def workload(n: int) -> tuple[list[Article], list[Article]]:
    """(articles to journal, other articles to warm caches with)."""
    texts = load_texts()
    real = real_articles(texts, "w", START)
    pool = [s for t in texts for s in split_sentences(t, "de") if 40 <= len(s) <= 300]
    fill = synthetic(pool, max(0, n - len(real)), random.Random(20261121), START)
    articles = sorted(real + fill, key=lambda a: a.published)[:n]
    warm = synthetic(pool, 150, random.Random(7), START - timedelta(days=60))
    return articles, warm


def _worker(
    url: str, prefix: str, mode: str, name: str, warm: list[Article], go: MpEvent, out: Any
) -> None:
    for article in warm:  # lexicons, lemma caches: what a long-running worker has warm
        article_profile(article, extract_facts(article.text, "de", title=article.title)[0])
    tune_collector()  # as `digestbot` does at start

    async def drain() -> tuple[float, float]:
        cfg = Config()
        cfg = replace(cfg, stories=replace(cfg.stories, workers=mode))
        client = await connect(url, 30.0)  # the product's connection
        keys = Keys(prefix)
        try:
            journal = IngestStream(client, keys, name, claim_idle_ms=600_000)
            runner = Runner(cfg, cast(Any, None), _pipeline(cfg, client, keys), [], journal=journal)
            await journal.ensure_group()
            go.wait()
            t0 = time.perf_counter()
            c0 = time.process_time()
            now = datetime.now(UTC)
            while True:
                report = CycleReport()
                await runner.drain([], report, now)
                if await journal.backlog() == 0:
                    return time.perf_counter() - t0, time.process_time() - c0
                await asyncio.sleep(0.002)  # the rest is the other worker's, in flight
        finally:
            await client.aclose()

    out.put(asyncio.run(drain()))


async def journal_articles(url: str, prefix: str, articles: list[Article]) -> None:
    client = aioredis.Redis.from_url(url)
    try:
        await client.flushdb()
        stream = IngestStream(client, Keys(prefix), "writer")
        for start in range(0, len(articles), 500):
            await stream.add([("bench", a) for a in articles[start : start + 500]])
    finally:
        await client.aclose()


async def server_cpu(url: str) -> float:
    """Seconds of CPU the Redis server has used so far."""
    client = aioredis.Redis.from_url(url)
    try:
        info = await client.info("cpu")
        return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])
    finally:
        await client.aclose()


def run_once(
    url: str, articles: list[Article], warm: list[Article], mode: str, workers: int
) -> tuple[float, float, float]:
    """(wall seconds, worker CPU seconds, Redis server CPU seconds) for one drain."""
    prefix = f"wb{mode}{workers}"
    asyncio.run(journal_articles(url, prefix, articles))
    ctx = mp.get_context("fork")
    go = ctx.Event()
    out: Any = ctx.Queue()
    procs = [
        ctx.Process(target=_worker, args=(url, prefix, mode, f"w{i}", warm, go, out))
        for i in range(workers)
    ]
    for p in procs:
        p.start()
    time.sleep(8.0)  # every worker warm and connected
    server0 = asyncio.run(server_cpu(url))
    go.set()
    times = [out.get(timeout=3600) for _ in procs]
    server = asyncio.run(server_cpu(url)) - server0
    for p in procs:
        p.join(60)
    return max(t for t, _ in times), sum(c for _, c in times), server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--redis-url", default="")
    args = parser.parse_args()
    articles, warm = workload(args.articles)
    setups = [("one", 1), ("all", 1), ("all", 2)]
    rates: dict[str, list[float]] = {f"{m}x{w}": [] for m, w in setups}
    with tempfile.TemporaryDirectory() as tmp:
        server = None
        url = args.redis_url
        if not url:
            server = EmbeddedServer(Path(tmp))
            url = server.start()
        try:
            for run_no in range(args.runs):
                for mode, workers in setups:
                    secs, cpu, server_secs = run_once(url, articles, warm, mode, workers)
                    rate = len(articles) / secs
                    rates[f"{mode}x{workers}"].append(rate)
                    # Busy share of the machine's two cores: what is left idle is waiting.
                    print(
                        f"run {run_no + 1}: {workers} worker(s), stories.workers={mode!r}: "
                        f"{rate:7.1f} articles/s ({secs:.1f} s); CPU per article: workers "
                        f"{cpu / len(articles) * 1000:.2f} ms, Redis "
                        f"{server_secs / len(articles) * 1000:.2f} ms; cores busy "
                        f"{(cpu + server_secs) / secs:.2f} of 2",
                        flush=True,
                    )
        finally:
            if server is not None:
                server.stop()
    medians = {k: statistics.median(v) for k, v in rates.items()}
    ratio = medians["allx2"] / medians["onex1"]
    print()
    print(f"one worker (leader):      {medians['onex1']:7.1f} articles/s (median of {args.runs})")
    print(f"one worker, taking turns: {medians['allx1']:7.1f} articles/s")
    print(f"two workers, taking turns:{medians['allx2']:7.1f} articles/s")
    print(f"two workers / one worker: {ratio:.2f}x")
    results = {"articles": len(articles), "rates": rates, "medians": medians, "ratio": ratio}
    (REPO / "bench" / "results-workers.json").write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
