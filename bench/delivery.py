"""Delivery throughput and latency against Telegram's flood limits (Bot API emulator).

    python bench/delivery.py [--redis-url URL] [--chats 300] [--backlog 900]
                             [--steady-rate 25] [--steady-seconds 20]

The Bot API emulator (tests/telegram_emulator.py) runs in this process with
Telegram's limits (30 messages/s overall, 1/s per chat, 20/min per group) and
answers 429 beyond them; senders run as separate processes (``python -m
bot.telegram_sender``) with their default limits. Private chats only, enough
of them (300) that the global limit binds. Three runs:

* saturation: a backlog of ``--backlog`` instant digests queued at once; the
  sustained rate (messages/s over the middle 80 % of the run; first to last
  in ``msg_per_s``). Latency here is time spent in the queue (it grows with
  the backlog), reported for completeness;
* steady: ``--steady-rate`` digests/s offered for ``--steady-seconds``, below the
  limit; latency from XADD (the stream id's time) to Telegram's acceptance;
* two senders: two thirds of the backlog shared by two sender processes (two
  consumers of the group): the limits shared in Redis keep the sum within
  Telegram's.

Also recorded: the densest second of accepted messages (Telegram allows 30)
and every refusal with what led to it.

Redis: ``--redis-url``, else $REDIS_URL, else an embedded server. Prints a table
and writes bench/results-delivery.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.keys import Keys  # noqa: E402
from bot.outbox import digest_id, entry_id, entry_to_dict  # noqa: E402
from bot.ratelimit import Limits  # noqa: E402
from bot.redis_conn import EmbeddedServer  # noqa: E402
from bot.subscription_store import SubscriptionStore, telegram_target  # noqa: E402
from digests.models import DigestEntry, FactOut, SourceRef  # noqa: E402
from digests.subscriptions import Subscription  # noqa: E402
from tests.telegram_emulator import TelegramEmulator  # noqa: E402

FIRST_CHAT = 5_000_000


def make_entry(n: int) -> DigestEntry:
    src = SourceRef("Continental Wire", f"https://wire.example/{n}")
    facts = [
        FactOut("statement", f"The port authority said berth {n} reopens on Monday.", "", (src,)),
        FactOut("number_estimate", f"About {n % 97 + 3} ships are waiting offshore.", "", (src,)),
    ]
    return DigestEntry(f"s{n}", f"Harbour strike, update {n}", "update", "en", facts, [src])


async def enqueue(client: aioredis.Redis, keys: Keys, target: str, entry: DigestEntry) -> float:
    """What fan-out does for one instant subscription: the entry, then the outbox message.

    Returns the XADD time as Redis stamped it (the message id's milliseconds)."""
    eid = entry_id(entry)
    await client.set(keys.entry(eid), json.dumps(entry_to_dict(entry)), ex=3600)
    msg_id = await client.xadd(
        keys.outbox_stream(),
        {"target": target, "entries": json.dumps([eid]), "digest_id": digest_id(target, [eid])},
    )
    return int(msg_id.decode().split("-")[0]) / 1000


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


class Run:
    """One emulator + sender(s) setup under a fresh key prefix."""

    def __init__(self, client: aioredis.Redis, url: str, chats: int, senders: int) -> None:
        self.client = client
        self.url = url
        self.keys = Keys(f"bench-delivery-{uuid.uuid4().hex[:8]}")
        self.emu = TelegramEmulator().start()
        self.chats = [FIRST_CHAT + i for i in range(chats)]
        self.n_senders = senders
        self.counter = 0

    async def setup(self) -> None:
        store = SubscriptionStore(self.client, self.keys)
        for chat in self.chats:
            self.emu.add_chat(chat, "private")
            await store.put(Subscription(target=telegram_target(chat)))

    def next_entry(self) -> DigestEntry:
        self.counter += 1
        return make_entry(self.counter)

    async def run_senders(self, until_sent: int, producer: Any = None) -> float:
        """Run the sender processes until ``until_sent`` messages were accepted; wall time.

        Senders are separate processes (``python -m bot.telegram_sender``), as in
        production: the emulator shares no interpreter with them, and two senders
        share the flood limits only through Redis.
        """
        env = {**os.environ, "DIGESTBOT_TELEGRAM_TOKEN": self.emu.token}
        started = time.monotonic()
        processes = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "bot.telegram_sender",
                    "--redis-url",
                    self.url,
                    "--prefix",
                    self.keys.prefix,
                    "--base-url",
                    self.emu.api_url,
                    "--consumer",
                    f"bench-{i}",
                ],
                cwd=REPO,
                env=env,
            )
            for i in range(self.n_senders)
        ]
        try:
            await self.wait_consumers()
            task = asyncio.create_task(producer) if producer is not None else None
            # A counter, not all_sent(): that copies every message under the emulator's
            # lock and would hold up the very sends being measured.
            while self.emu.stats.by_method["sendMessage"] - len(self.emu.stats.errors) < until_sent:
                if any(p.poll() is not None for p in processes):
                    raise RuntimeError("a sender process died")
                await asyncio.sleep(0.05)
            elapsed = time.monotonic() - started
            if task is not None:
                await task
        finally:
            for p in processes:
                p.send_signal(signal.SIGTERM)
            for p in processes:
                p.wait(30)
        return elapsed

    async def wait_consumers(self) -> None:
        """Until every sender has joined the consumer group (its first read)."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                consumers = await self.client.xinfo_consumers(self.keys.outbox_stream(), "telegram")
            except aioredis.ResponseError:
                consumers = []
            if len(consumers) >= self.n_senders:
                return
            await asyncio.sleep(0.05)
        raise RuntimeError("the senders did not start")

    def figures(self, created: dict[str, float]) -> dict[str, Any]:
        sent = self.emu.all_sent()
        times = sorted(m.monotonic for m in sent)
        densest, j = 0, 0
        for i in range(len(times)):
            while times[i] - times[j] >= 1.0:
                j += 1
            densest = max(densest, i - j + 1)
        lo, hi = int(0.1 * len(times)), int(0.9 * len(times))
        latencies = []
        for m in sent:
            key = f"{m.chat_id}:{m.raw_text}"
            if key in created:
                latencies.append(m.time - created[key])
        return {
            "messages": len(sent),
            "msg_per_s": (len(times) - 1) / (times[-1] - times[0]),
            "msg_per_s_middle_80": (hi - lo) / (times[hi] - times[lo]),
            "latency_p50_s": percentile(latencies, 0.50),
            "latency_p99_s": percentile(latencies, 0.99),
            "latency_max_s": max(latencies),
            "densest_second": densest,
            # Each refusal with the messages accepted in the second before it (30 = the
            # global window was full; fewer = a per-chat or per-group limit).
            "refusals": [
                {
                    "chat": e.chat_id,
                    "status": e.status,
                    "description": e.description,
                    "accepted_in_second_before": sum(
                        1 for m in sent if e.time - 1.0 < m.time <= e.time
                    ),
                    "chat_messages_before": [
                        round(m.time - e.time, 3)
                        for m in sent
                        if m.chat_id == e.chat_id and m.time <= e.time
                    ],
                }
                for e in self.emu.stats.errors
            ],
            "too_many_429": self.emu.stats.too_many,
            "rejected_4xx": self.emu.stats.rejected,
        }

    async def close(self) -> None:
        self.emu.stop()
        async for key in self.client.scan_iter(match=self.keys.all_pattern(), count=1000):
            await self.client.unlink(key)


async def xadd_times(client: aioredis.Redis, keys: Keys, run: Run) -> dict[str, float]:
    """Each queued message's XADD time, keyed like the emulator's messages (chat:text)."""
    from bot.outbox import load_entries
    from digests.render import render_messages

    out: dict[str, float] = {}
    for msg_id, raw in await client.xrange(keys.outbox_stream()):
        fields = {k.decode(): v.decode() for k, v in raw.items()}
        (entry,) = await load_entries(client, keys, json.loads(fields["entries"]))
        assert entry is not None
        chat = int(fields["target"].split(":")[1])
        (html,) = render_messages([entry], "telegram", "en")
        out[f"{chat}:{html}"] = int(msg_id.decode().split("-")[0]) / 1000
    return out


async def saturation(
    client: aioredis.Redis, url: str, chats: int, backlog: int, senders: int
) -> dict[str, Any]:
    run = Run(client, url, chats, senders)
    try:
        await run.setup()
        for i in range(backlog):
            await enqueue(client, run.keys, telegram_target(run.chats[i % chats]), run.next_entry())
        created = await xadd_times(client, run.keys, run)
        elapsed = await run.run_senders(backlog)
        out = run.figures(created)
        out.update(chats=chats, senders=senders, wall_s=elapsed)
        return out
    finally:
        await run.close()


async def steady(
    client: aioredis.Redis, url: str, chats: int, rate: float, seconds: float
) -> dict[str, Any]:
    from digests.render import render_messages

    run = Run(client, url, chats, 1)
    created: dict[str, float] = {}
    total = int(rate * seconds)

    async def produce() -> None:
        start = time.monotonic()
        for i in range(total):
            # Paced by the schedule, not by sleeps, so the offered rate does not drift.
            await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
            chat = run.chats[i % chats]
            entry = run.next_entry()
            (html,) = render_messages([entry], "telegram", "en")
            created[f"{chat}:{html}"] = await enqueue(
                client, run.keys, telegram_target(chat), entry
            )

    try:
        await run.setup()
        elapsed = await run.run_senders(total, produce())
        out = run.figures(created)
        out.update(chats=chats, offered_per_s=rate, wall_s=elapsed)
        return out
    finally:
        await run.close()


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    url = args.redis_url or os.environ.get("REDIS_URL", "")
    server = None
    tmp = tempfile.TemporaryDirectory(prefix="bench-delivery-")
    if not url:
        server = EmbeddedServer(Path(tmp.name))
        url = server.start()
    client: aioredis.Redis = aioredis.Redis.from_url(url)
    try:
        lim = Limits()
        results: dict[str, Any] = {
            "limits": {
                "global_per_second": lim.global_per_second,
                "per_chat_per_second": lim.per_chat_per_second,
                "per_group_per_minute": lim.per_group_per_minute,
                "headroom": lim.headroom,
            },
            "emulator_limits": "Telegram's: 30/s overall, 1/s per chat (burst 3), 20/min/group",
        }
        print(f"saturation: {args.backlog} digests queued for {args.chats} chats ...")
        results["saturation"] = await saturation(client, url, args.chats, args.backlog, 1)
        print(f"steady: {args.steady_rate}/s for {args.steady_seconds} s ...")
        results["steady"] = await steady(
            client, url, args.chats, args.steady_rate, args.steady_seconds
        )
        print("two senders sharing the backlog ...")
        results["two_senders"] = await saturation(client, url, args.chats, args.backlog * 2 // 3, 2)
        return results
    finally:
        await client.aclose()
        if server is not None:
            server.stop()
        tmp.cleanup()


def report(results: dict[str, Any]) -> None:
    print()
    print(
        f"{'run':<12} {'msgs':>5} {'msg/s':>6} {'mid80':>6} {'p50 s':>6} {'p99 s':>6} {'429s':>5}"
    )
    for name in ("saturation", "steady", "two_senders"):
        r = results[name]
        rates = f"{r['msg_per_s']:>6.2f} {r['msg_per_s_middle_80']:>6.2f}"
        print(
            f"{name:<12} {r['messages']:>5} {rates} "
            f"{r['latency_p50_s']:>6.2f} {r['latency_p99_s']:>6.2f} {r['too_many_429']:>5}"
        )
    steady_run = results["steady"]
    print(
        f"\nsustained {results['saturation']['msg_per_s_middle_80']:.1f} msg/s at saturation "
        f"(target >= 28 of 30); steady {steady_run['offered_per_s']:.0f}/s: "
        f"p50 {steady_run['latency_p50_s'] * 1000:.0f} ms, "
        f"p99 {steady_run['latency_p99_s'] * 1000:.0f} ms (target <= 2 s); "
        f"429s: {sum(results[n]['too_many_429'] for n in ('saturation', 'steady', 'two_senders'))}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--redis-url", default="")
    parser.add_argument("--chats", type=int, default=300)
    parser.add_argument("--backlog", type=int, default=900)
    parser.add_argument("--steady-rate", type=float, default=25.0)
    parser.add_argument("--steady-seconds", type=float, default=20.0)
    parser.add_argument("--out", default=str(REPO / "bench" / "results-delivery.json"))
    args = parser.parse_args()
    results = asyncio.run(bench(args))
    report(results)
    Path(args.out).write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
