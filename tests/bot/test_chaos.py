"""Chaos: `digestbot run` SIGKILLed at random instants, restarted, and nothing lost.

The real process polls the bundled sample feeds, runs the pipeline, fans out to
three subscribed chats (private, group, channel) and sends through the Telegram
emulator. A reference run without kills gives the messages every chat must get.
Then the same run is killed ``CHAOS_KILLS`` times (default 50) at random
instants, each time restarted, and finally left to finish. Every message of the
reference must arrive, nothing else may, and a message may arrive twice only
once per kill at most (the documented window: Telegram accepted a part in the
instant before the process died, before its marker said "sent").

``CHAOS_KILLS`` and ``CHAOS_SEED`` tune it; ``make soak`` runs a longer one.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import IO

import pytest
import redis.asyncio as aioredis

from bot.keys import Keys
from bot.subscription_store import SubscriptionStore
from digests.subscriptions import Subscription
from tests.telegram_emulator import DEFAULT_TOKEN, RateLimits, TelegramEmulator

REPO = Path(__file__).resolve().parents[2]
FEEDS = REPO / "samples" / "feeds"
CHATS = {4001: "private", -4002: "group", -1004003: "channel"}
KILLS = int(os.environ.get("CHAOS_KILLS", "50"))
SEED = int(os.environ.get("CHAOS_SEED", str(time.time_ns() % 100_000)))


def write_config(path: Path, prefix: str, api: str, poller: str = "") -> None:
    feeds = "".join(
        f'[[feeds]]\nurl = "{feed}"\nname = "{feed.stem}"\nfull_text = "never"\ninterval = 1\n'
        for feed in sorted(FEEDS.iterdir())
        if feed.suffix in (".xml", ".json")
    )
    path.write_text(
        f'[redis]\nprefix = "{prefix}"\n'
        f'[telegram]\nbase_url = "{api}"\nper_chat_per_second = 200.0\n'
        "global_per_second = 200.0\nper_group_per_minute = 100000\n"
        + (f"[poller]\n{poller}\n" if poller else "")
        + feeds
    )


def start(
    config: Path,
    redis_url: str,
    data: Path,
    stderr: int | IO[bytes] = subprocess.DEVNULL,
    worker: str = "chaos",
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DIGESTBOT_REDIS_URL": redis_url,
        "DIGESTBOT_TELEGRAM_TOKEN": DEFAULT_TOKEN,
        "DIGESTBOT_DATA_DIR": str(data),
        "DIGESTBOT_WORKER": worker,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "--config", str(config), "run"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )


async def subscribe_all(client: aioredis.Redis, keys: Keys) -> None:
    store = SubscriptionStore(client, keys)
    for chat in CHATS:
        await store.put(Subscription(target=f"telegram:{chat}"))


def new_emulator() -> TelegramEmulator:
    emu = TelegramEmulator(limits=RateLimits(enabled=False)).start()
    for chat, kind in CHATS.items():
        emu.add_chat(chat, kind, title=None if kind == "private" else f"chat {chat}")  # type: ignore[arg-type]
    return emu


def delivered(emu: TelegramEmulator) -> Counter[tuple[int, str]]:
    return Counter((m.chat_id, m.raw_text) for m in emu.all_sent())


async def settled(
    client: aioredis.Redis, keys: Keys, emu: TelegramEmulator, timeout: float = 120
) -> None:
    """Wait until the journal and the outbox are empty and nothing was sent for a while."""
    deadline = time.monotonic() + timeout
    last, quiet_since = -1, time.monotonic()
    while time.monotonic() < deadline:
        count = len(emu.all_sent())
        if count != last:
            last, quiet_since = count, time.monotonic()
        busy = await client.xlen(keys.ingest_stream()) + await client.xlen(keys.outbox_stream())
        if count and not busy and time.monotonic() - quiet_since > 2.0:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"did not settle: {last} messages")


async def finish(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        await asyncio.to_thread(proc.wait, 30)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise


async def run_reference(
    tmp: Path, redis_url: str, client: aioredis.Redis, keys: Keys
) -> Counter[tuple[int, str]]:
    """What every chat gets from one undisturbed run (under keys of its own, removed after)."""
    reference = Keys(keys.prefix + "-ref")
    try:
        return await _undisturbed(tmp, redis_url, client, reference)
    finally:
        async for key in client.scan_iter(match=reference.all_pattern()):
            await client.unlink(key)


async def _undisturbed(
    tmp: Path, redis_url: str, client: aioredis.Redis, keys: Keys
) -> Counter[tuple[int, str]]:
    emu = new_emulator()
    try:
        await subscribe_all(client, keys)
        config = tmp / "reference.toml"
        write_config(config, keys.prefix, emu.url)
        proc = start(config, redis_url, tmp)
        try:
            await settled(client, keys, emu)
        finally:
            await finish(proc)
        return delivered(emu)
    finally:
        emu.stop()


@pytest.mark.timeout(600)
async def test_sigkill_at_random_instants_loses_nothing(
    tmp_path: Path, redis_url: str, redis_client: aioredis.Redis, keys: Keys
) -> None:
    expected = await run_reference(tmp_path, redis_url, redis_client, keys)
    assert len(expected) >= 3 * 20, "the samples give every chat a few dozen messages"
    assert max(expected.values()) == 1

    rng = random.Random(SEED)
    emu = new_emulator()
    try:
        await subscribe_all(redis_client, keys)
        config = tmp_path / "chaos.toml"
        write_config(config, keys.prefix, emu.url)
        kills_during_delivery = 0
        for _ in range(KILLS):
            proc = start(config, redis_url, tmp_path)
            # Python and the libraries take about a second to import; kill anywhere from
            # start-up through polling, the pipeline, fan-out and sending.
            await asyncio.sleep(rng.uniform(0.5, 3.0))
            before = len(emu.all_sent())
            proc.send_signal(signal.SIGKILL)
            await asyncio.to_thread(proc.wait, 10)
            if 0 < before < sum(expected.values()):
                kills_during_delivery += 1
        proc = start(config, redis_url, tmp_path)
        try:
            await settled(redis_client, keys, emu)
        finally:
            await finish(proc)
        got = delivered(emu)
    finally:
        emu.stop()

    lost = expected - got
    strangers = {m for m in got if m not in expected}
    duplicates = sum((got - expected).values())
    print(
        f"chaos (seed {SEED}): {KILLS} SIGKILLs ({kills_during_delivery} while messages were "
        f"being delivered), {sum(expected.values())} messages expected, {sum(got.values())} "
        f"delivered, {sum(lost.values())} lost, {duplicates} duplicates"
    )
    assert not lost, f"lost after {KILLS} kills (seed {SEED}): {list(lost)[:3]}"
    assert not strangers, f"unexpected messages (seed {SEED}): {list(strangers)[:3]}"
    assert duplicates <= KILLS
