"""The benchmark suite: runs the benches one after another, prints one table.

    python bench/run.py [--quick] [--only dedup,poller,...]

Each bench runs as its own process (so one's memory and caches do not colour
the next) and writes its ``bench/results-<name>.json``; this script collects
the figures the issues ask for into a table and ``bench/results.json``, with
the machine they ran on. Benches never run at the same time: on a 2-core
machine a second job halves every figure.

``--quick`` shrinks every size for a smoke run; the published figures come from
a full run. What is not measured here is said so in the table, not left out.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"

# name → (arguments for a full run, for a quick run)
PLANS: dict[str, tuple[list[str], list[str]]] = {
    "dedup": (
        ["--sizes", "10000,100000", "--queries", "1000", "--runs", "1"],
        ["--sizes", "3000", "--queries", "300", "--runs", "1", "--sweep-size", "1000"],
    ),
    "pipeline": (
        ["--sizes", "10000,50000", "--runs", "3"],
        ["--sizes", "1000,2000", "--runs", "1"],
    ),
    "poller": (["--feeds", "5000", "--rss-feeds", "10000", "--runs", "3"],
               ["--feeds", "500", "--rss-feeds", "1000", "--runs", "1"]),
    "delivery": ([], ["--chats", "60", "--backlog", "120", "--steady-seconds", "5"]),
    "workers": (["--articles", "3000", "--runs", "3"], ["--articles", "600", "--runs", "1"]),
}


def _load(name: str) -> dict[str, Any]:
    path = BENCH / f"results-{name}.json"
    data: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    return data


def _dedup_rows(data: dict[str, Any]) -> list[tuple[str, str]]:
    rows = []
    for size in data.get("sizes", []):
        ours, ds = size["ours"], size["datasketch"]
        n = ours["size"]
        ds_rate = ds["phases"]["lookup+insert"]["rate"]
        batch = ours["phases"].get("lookup+insert batch", {})
        seq = ours["phases"]["lookup+insert"]
        ds_recall = ds["phases"]["lookup+insert"]["recall"]
        rows.append((
            f"(b,c) dedup at {n:,} stored",
            f"batches {batch.get('rate', 0):,.0f} art/s, one at a time {seq['rate']:,.0f} art/s; "
            f"datasketch+Redis {ds_rate:,.0f} art/s ({batch.get('rate', 0) / ds_rate:.1f}x); "
            f"recall {batch.get('recall', 0):.1%} vs {ds_recall:.1%}; "
            f"{ours['bytes_per_article']:,.0f} B of Redis per article",
        ))
        scan = size.get("scan")
        if scan:
            sp = scan["phases"]["lookup+insert"]
            extra = scan["extra"]
            inside = extra["window_split"]["inside"]
            rows.append((
                f"(c) naive rapidfuzz scan at {n:,} stored",
                f"last {extra['window']:,} texts in process, {extra['scorer']} >= "
                f"{extra['threshold']:g}: {sp['rate']:,.0f} art/s one at a time; ours "
                f"{batch.get('rate', 0) / sp['rate']:.1f}x in batches, "
                f"{seq['rate'] / sp['rate']:.1f}x one at a time; recall {sp['recall']:.1%} "
                f"({inside['found']}/{inside['planted']} with the original in the window)",
            ))
    if not any(size.get("scan") for size in data.get("sizes", [])):
        rows.append(("(c) naive rapidfuzz scan", "not measured"))
    return rows


def _pipeline_rows(data: dict[str, Any]) -> list[tuple[str, str]]:
    rows = []
    if "fresh_median" in data:
        rows.append(("(a) pipeline, fresh store", f"{data['fresh_median']:.1f} art/s"))
    for row in data.get("growth", []):
        rows.append((
            f"(a) pipeline at {row['stored']:,} stored",
            f"{row['ms_per_article']:.2f} ms/article, "
            f"{row['redis_bytes_per_article']:,.0f} B of Redis per stored article (all state)",
        ))
    if "cost_ratio" in data:
        rows.append(("(a) cost ratio largest/smallest store", f"{data['cost_ratio']:.2f}x"))
    return rows


def _poller_rows(data: dict[str, Any]) -> list[tuple[str, str]]:
    if not data:
        return []
    n = data["feeds"]
    return [
        ("(d) poller, full path", f"{n:,} feeds in {data['full_seconds_median']:.1f} s"),
        ("(d) poller, 304 path", f"{n:,} feeds in {data['not_modified_seconds_median']:.1f} s"),
        ("(f) RSS", f"{data['max_rss_mb']:.0f} MB with {data['rss_feeds']:,} feeds configured"),
    ]


def _delivery_rows(data: dict[str, Any]) -> list[tuple[str, str]]:
    if not data:
        return []
    sat, steady = data.get("saturation", {}), data.get("steady", {})
    return [(
        "(e) delivery to the Telegram emulator",
        f"{sat.get('msg_per_s_middle_80', 0):.1f} msg/s sustained at 30/s limits, "
        f"p99 outbox→send {steady.get('latency_p99_s', 0) * 1000:.0f} ms at "
        f"{steady.get('msg_per_s', 0):.0f} msg/s, 429s {sat.get('too_many_429', 0)}",
    )]


def _workers_rows(data: dict[str, Any]) -> list[tuple[str, str]]:
    if not data:
        return []
    medians = data["medians"]
    return [(
        "(g) 1 vs 2 workers on the pipeline",
        f"one worker {medians['onex1']:.1f} art/s, two sharing it {medians['allx2']:.1f} art/s "
        f"({data['ratio']:.2f}x); one alone taking turns {medians['allx1']:.1f} art/s",
    )]


SUMMARIES: dict[str, Callable[[dict[str, Any]], list[tuple[str, str]]]] = {
    "dedup": _dedup_rows,
    "pipeline": _pipeline_rows,
    "poller": _poller_rows,
    "delivery": _delivery_rows,
    "workers": _workers_rows,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default=",".join(PLANS))
    args = parser.parse_args()
    chosen = [n for n in args.only.split(",") if n]
    unknown = [n for n in chosen if n not in PLANS]
    if unknown:
        parser.error(f"unknown bench {unknown[0]!r}; choose from {', '.join(PLANS)}")
    took: dict[str, float] = {}
    for name in chosen:
        full, quick = PLANS[name]
        command = [sys.executable, str(BENCH / f"{name}.py"), *(quick if args.quick else full)]
        print(f"== {' '.join(command[1:])}", flush=True)
        t0 = time.monotonic()
        done = subprocess.run(command, cwd=REPO)
        took[name] = time.monotonic() - t0
        if done.returncode != 0:
            print(f"bench {name} failed (exit {done.returncode})", file=sys.stderr)
            return 1
    rows = [row for name in PLANS for row in SUMMARIES[name](_load(name))]
    machine = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "loadavg_end": os.getloadavg(),
        "quick": args.quick,
    }
    width = max(len(r[0]) for r in rows)
    print()
    print(f"digestbot benchmarks on {machine['platform']}, {machine['cpus']} CPUs"
          f"{' (quick sizes)' if args.quick else ''}")
    for what, figure in rows:
        print(f"  {what:<{width}}  {figure}")
    (BENCH / "results.json").write_text(json.dumps(
        {"machine": machine, "seconds": took, "rows": [list(r) for r in rows]}, indent=1
    ) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
