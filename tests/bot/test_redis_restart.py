"""Redis restarted under a running `digestbot run`: it waits, reconnects and resumes.

The process gets its own Valkey server (the embedded one, on a fixed port, with
its append-only file), which is shut down while digests are being delivered and
started again two seconds later from the same data directory. The process must
stay up through the outage, and every message of a reference run must arrive.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from bot.keys import Keys
from bot.redis_conn import EmbeddedServer
from tests.bot.test_chaos import (
    delivered,
    finish,
    new_emulator,
    run_reference,
    settled,
    subscribe_all,
    write_config,
)
from tests.bot.test_chaos import start as start_run

OUTAGE_S = 2.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.mark.timeout(300)
async def test_redis_restart_mid_run_loses_nothing(
    tmp_path: Path, redis_url: str, redis_client: aioredis.Redis, keys: Keys
) -> None:
    expected = await run_reference(tmp_path, redis_url, redis_client, keys)

    port = free_port()
    data = tmp_path / "own-redis"
    server = EmbeddedServer(data, port=port)
    own_url = server.start()
    client = aioredis.Redis.from_url(own_url)
    emu = new_emulator()
    proc: subprocess.Popen[bytes] | None = None
    try:
        await subscribe_all(client, keys)
        config = tmp_path / "restart.toml"
        write_config(config, keys.prefix, emu.url)
        # A file, not a pipe: while Redis is down the process logs more than a pipe holds.
        log_file = (tmp_path / "run.log").open("wb")
        proc = start_run(config, own_url, tmp_path, stderr=log_file)
        deadline = time.monotonic() + 60
        while len(emu.all_sent()) < 10:
            assert time.monotonic() < deadline, "nothing delivered before the outage"
            await asyncio.sleep(0.05)
        at_outage = len(emu.all_sent())
        await client.aclose()
        server.stop()
        await asyncio.sleep(OUTAGE_S)
        assert proc.poll() is None, "the process died while Redis was down"
        server = EmbeddedServer(data, port=port)
        assert server.start() == own_url
        client = aioredis.Redis.from_url(own_url)
        await settled(client, keys, emu, timeout=90)
        assert proc.poll() is None, "the process died after Redis came back"
        await finish(proc)
        log_file.close()
        err = (tmp_path / "run.log").read_text(errors="replace")
        assert proc.returncode == 0, err[-3000:]
        got = delivered(emu)
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
        emu.stop()
        await client.aclose()
        server.stop()

    lost = expected - got
    strangers = {m for m in got if m not in expected}
    duplicates = sum((got - expected).values())
    print(
        f"Redis down {OUTAGE_S:.0f} s after {at_outage} of {sum(expected.values())} messages: "
        f"{sum(got.values())} delivered, {sum(lost.values())} lost, {duplicates} duplicates"
    )
    assert not lost
    assert not strangers
    # A part Telegram accepted while its "sent" marker could not be written is sent again.
    assert duplicates == 0
