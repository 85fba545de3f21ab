"""Poller throughput and memory: thousands of feeds on a local HTTP server.

    python bench/poller.py [--feeds 5000] [--rss-feeds 10000] [--runs 3] [--redis-url URL]

A uvicorn server in its own process serves ``/feed/<n>``: a small RSS 2.0 feed
(10 items) with an ETag, answering ``304 Not Modified`` to a matching
``If-None-Match``. The feeds are spread over 200 loopback addresses
(127.0.0.1-200), so the per-host limit acts as it would on 200 sites.

Measured, with the default ``[poller]`` settings (20 fetches at once, 2 per host):

* full path: every feed fetched (200) and parsed into articles, the first cycle;
* 304 path: the next cycles, every feed answered 304 (conditional GET);
* RSS of this process after a 304 cycle over ``--rss-feeds`` configured feeds.

Figures are medians over ``--runs``; results go to ``bench/results-poller.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import resource
import socket
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.collector import tune_collector  # noqa: E402
from bot.config import FeedConfig, PollerConfig  # noqa: E402
from bot.feed_state import FeedStateStore  # noqa: E402
from bot.keys import Keys  # noqa: E402
from bot.netguard import NetGuard  # noqa: E402
from bot.poller import Poller  # noqa: E402
from bot.redis_conn import EmbeddedServer  # noqa: E402
from bot.sources import articles_from_bytes  # noqa: E402

HOSTS = 200
ITEMS = 10
RESULTS = REPO / "bench" / "results-poller.json"


def feed_body(n: int) -> bytes:
    items = "".join(
        f"<item><title>Feed {n} item {i}: council approves budget</title>"
        f"<link>https://site{n}.example/news/{i}</link><guid>site{n}-{i}</guid>"
        f"<pubDate>Mon, 02 Nov 2026 0{i % 10}:00:00 GMT</pubDate>"
        f"<description>The council of town {n} approved item {i} of its budget on Monday "
        "after a long debate; the opposition voted against it.</description></item>"
        for i in range(ITEMS)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Site {n}</title><link>https://site{n}.example/</link>"
        f"<description>News of town {n}</description>{items}</channel></rss>"
    ).encode()


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    path: str = scope["path"]
    n = int(path.rsplit("/", 1)[-1]) if path.startswith("/feed/") else -1
    if n < 0:
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    etag = f'"v1-{n}"'.encode()
    headers = dict(scope["headers"])
    if headers.get(b"if-none-match") == etag:
        await send({"type": "http.response.start", "status": 304, "headers": [(b"etag", etag)]})
        await send({"type": "http.response.body", "body": b""})
        return
    body = feed_body(n)
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/rss+xml; charset=utf-8"),
                (b"etag", etag),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def serve(port: int) -> None:
    import uvicorn

    uvicorn.run(app, host="0.0.0.0", port=port, log_level="error", access_log=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def feeds_for(count: int, port: int) -> list[FeedConfig]:
    return [
        FeedConfig(url=f"http://127.0.0.{1 + i % HOSTS}:{port}/feed/{i}", name=f"site{i}")
        for i in range(count)
    ]


async def cycle(
    poller: Poller, feeds: list[FeedConfig], parse: bool
) -> tuple[float, dict[str, int]]:
    t0 = time.perf_counter()
    results = await poller.poll(feeds, force=True)
    articles = 0
    if parse:
        for feed, result in zip(feeds, results, strict=True):
            if result.status == "ok":
                loaded = articles_from_bytes(
                    result.body, name=feed.url, source=feed.name, now=datetime.now(UTC),
                    content_type=result.content_type,
                )
                articles += len(loaded.articles)
    took = time.perf_counter() - t0
    statuses: dict[str, int] = {}
    for r in results:
        statuses[r.status] = statuses.get(r.status, 0) + 1
    statuses["articles"] = articles
    return took, statuses


async def run(args: argparse.Namespace, port: int, url: str) -> dict[str, Any]:
    client = aioredis.Redis.from_url(url)
    cfg = PollerConfig()
    guard = NetGuard(allow=["127.0.0.0/8"])
    out: dict[str, Any] = {"feeds": args.feeds, "poller": {"concurrency": cfg.concurrency,
                                                           "per_host": cfg.per_host_concurrency}}
    full, not_modified = [], []
    try:
        for run_no in range(args.runs):
            keys = Keys(f"benchpoll{run_no}")
            feeds = feeds_for(args.feeds, port)
            async with Poller(cfg, FeedStateStore(client, keys), guard=guard) as poller:
                took, st = await cycle(poller, feeds, parse=True)
                full.append(took)
                print(f"run {run_no + 1}: full path {args.feeds} feeds in {took:.1f} s "
                      f"({args.feeds / took:,.0f} feeds/s) {st}", flush=True)
                took, st = await cycle(poller, feeds, parse=False)
                not_modified.append(took)
                print(f"run {run_no + 1}: 304 path {args.feeds} feeds in {took:.1f} s "
                      f"({args.feeds / took:,.0f} feeds/s) {st}", flush=True)
            async for key in client.scan_iter(match=f"benchpoll{run_no}*"):
                await client.unlink(key)
        out["full_seconds_median"] = statistics.median(full)
        out["not_modified_seconds_median"] = statistics.median(not_modified)

        # Memory with many feeds configured: one full and one 304 cycle, then RSS.
        keys = Keys("benchpollrss")
        feeds = feeds_for(args.rss_feeds, port)
        async with Poller(replace(cfg), FeedStateStore(client, keys), guard=guard) as poller:
            await cycle(poller, feeds, parse=True)
            await cycle(poller, feeds, parse=False)
        async for key in client.scan_iter(match="benchpollrss*"):
            await client.unlink(key)
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        out["rss_feeds"] = args.rss_feeds
        out["max_rss_mb"] = rss_mb
    finally:
        await client.aclose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=5000)
    parser.add_argument("--rss-feeds", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--redis-url", default="")
    args = parser.parse_args()
    port = free_port()
    server = multiprocessing.get_context("spawn").Process(target=serve, args=(port,), daemon=True)
    server.start()
    deadline = time.time() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.time() > deadline:
                sys.exit("the feed server did not start")
            time.sleep(0.1)
    with tempfile.TemporaryDirectory() as tmp:
        embedded = None
        url = args.redis_url
        if not url:
            embedded = EmbeddedServer(Path(tmp))
            url = embedded.start()
        try:
            tune_collector()  # as `digestbot` does at start
            results = asyncio.run(run(args, port, url))
        finally:
            if embedded is not None:
                embedded.stop()
            server.terminate()
    print()
    limits = results["poller"]
    print(f"poller, {results['feeds']:,} feeds on {HOSTS} loopback hosts, default limits "
          f"({limits['concurrency']} at once, {limits['per_host']} per host), "
          f"median of {args.runs}:")
    print(f"  full path (200 + parse): {results['full_seconds_median']:.1f} s per cycle "
          f"({results['feeds'] / results['full_seconds_median']:,.0f} feeds/s)")
    print(f"  304 path:                {results['not_modified_seconds_median']:.1f} s per cycle "
          f"({results['feeds'] / results['not_modified_seconds_median']:,.0f} feeds/s; "
          f"target <= 20 s)")
    print(f"  max RSS with {results['rss_feeds']:,} feeds configured: "
          f"{results['max_rss_mb']:.0f} MB (target <= 250 MB)")
    RESULTS.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
