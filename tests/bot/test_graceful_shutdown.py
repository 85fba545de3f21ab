"""SIGTERM to `digestbot run`: in-flight sends drain, polling stops, state persists, exit 0.

The real process with the embedded Redis (its append-only file is the state that
must persist), feeds on loopback and the Telegram Bot API emulator, whose every
send is slowed down so that digests are in flight when the signal arrives. A
second run over the same data directory must then deliver every digest that
was queued and not yet sent — none lost — and post nothing twice.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from tests.telegram_emulator import DEFAULT_TOKEN, RateLimits, TelegramEmulator

REPO = Path(__file__).resolve().parents[2]
FEEDS = sorted((REPO / "samples" / "feeds").glob("*.xml"))[:5]
EMPTY_RSS = '<?xml version="1.0"?><rss version="2.0"><channel><title>x</title></channel></rss>'
CHAT = 601
PREFIX = "shutdown"


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def www(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    root = tmp_path / "www"
    root.mkdir()
    for i in range(len(FEEDS)):
        (root / f"feed{i}.xml").write_text(EMPTY_RSS)
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start(config: Path, tmp: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGESTBOT_")}
    env["DIGESTBOT_TELEGRAM_TOKEN"] = DEFAULT_TOKEN
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "--config", str(config), "run"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp / "stderr.log", "a"),  # closed with the process
        text=True,
    )


def sigterm(proc: subprocess.Popen[str]) -> tuple[int, float]:
    began = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise
    return code, time.monotonic() - began


async def connect(port: int) -> aioredis.Redis:
    client: aioredis.Redis = aioredis.Redis(port=port)
    for _ in range(200):
        try:
            await client.ping()
            return client
        except (OSError, aioredis.ConnectionError):
            await asyncio.sleep(0.1)
    raise AssertionError("the embedded Redis did not come up")


async def test_sigterm_drains_in_flight_sends_and_loses_no_digest(
    tmp_path: Path, www: tuple[Path, str]
) -> None:
    root, base = www
    port = free_port()
    config = tmp_path / "c.toml"
    config.write_text(
        f'data_dir = "{tmp_path / "data"}"\n'
        f'[redis]\nprefix = "{PREFIX}"\nembedded_port = {port}\n'
        '[security]\nallow = ["127.0.0.1"]\n'
        "[telegram]\nbase_url = \"{url}\"\nper_chat_per_second = 20.0\n"
        + "".join(
            f'[[feeds]]\nurl = "{base}/feed{i}.xml"\nname = "{path.stem}"\ninterval = 1\n'
            'full_text = "never"\n'
            for i, path in enumerate(FEEDS)
        )
    )
    emu = TelegramEmulator(limits=RateLimits(enabled=False)).start()
    procs: list[subprocess.Popen[str]] = []
    try:
        config.write_text(config.read_text().replace("{url}", emu.url))
        emu.add_user(CHAT, "Grace", language_code="en")
        emu.add_chat(CHAT, "private", first_name="Grace")
        procs.append(start(config, tmp_path))
        emu.push_message(CHAT, CHAT, "/subscribe")
        await emu.wait_for_messages_async(CHAT, 1, timeout=60)
        # From now on every send takes 0.7 s: digests are in flight when SIGTERM comes.
        emu.fail_next(CHAT, "delay", delay=0.7, times=10_000)
        later = time.time() + 10
        for i, path in enumerate(FEEDS):
            shutil.copy(path, root / f"feed{i}.xml")
            os.utime(root / f"feed{i}.xml", (later, later))
        await emu.wait_for_messages_async(CHAT, 1 + 3, timeout=60)

        code, took = sigterm(procs[0])
        log = (tmp_path / "stderr.log").read_text()
        assert code == 0, log[-3000:]
        assert took < 10.0, f"SIGTERM took {took:.1f}s"
        print(f"first run: SIGTERM to exit {took:.2f}s")
        first_run = len(emu.sent(CHAT))
        assert "Traceback" not in log, log[-3000:]

        # The second run over the same data: what was queued goes out, nothing twice.
        emu.clear_faults()
        procs.append(start(config, tmp_path))
        client = await connect(port)
        try:
            deadline = time.monotonic() + 40
            while True:
                titles = [
                    json.loads(raw)["title"]
                    for key in await client.keys(f"{PREFIX}:entry:*")
                    if (raw := await client.get(key))
                ]
                texts = emu.texts(CHAT)
                missing = [t for t in titles if not any(t in text for text in texts)]
                backlog = await client.xlen(f"{PREFIX}:{{{PREFIX}:outbox}}:stream")
                if titles and not missing and backlog == 0:
                    break
                stream = f"{PREFIX}:{{{PREFIX}:outbox}}:stream"
                assert time.monotonic() < deadline, (
                    missing,
                    backlog,
                    await client.xrange(stream),
                    await client.xpending_range(stream, "telegram", "-", "+", 10),
                    await client.xinfo_consumers(stream, "telegram"),
                )
                await asyncio.sleep(0.5)
        finally:
            await client.aclose()
        digests = [t for t in emu.texts(CHAT)[1:]]
        assert len(digests) == len(set(digests)), "a digest was posted twice"
        assert len(titles) >= 3 and len(emu.sent(CHAT)) > first_run
        code, took = sigterm(procs[1])
        assert code == 0 and took < 10.0
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        emu.stop()


def test_ctrl_c_to_the_process_group_leaves_the_embedded_store_to_the_end(
    tmp_path: Path,
) -> None:
    """Ctrl-C in a terminal signals the whole process group, the embedded Redis included.

    The store must outlive the drain (it runs in a session of its own and is stopped
    last), so a SIGINT in the middle of the first cycle still ends cleanly.
    """
    demo = (REPO / "samples" / "demo.toml").read_text()
    config = tmp_path / "demo.toml"
    config.write_text(
        demo.replace('data_dir = "data"', f'data_dir = "{tmp_path / "data"}"')
        .replace('url = "feeds/', f'url = "{REPO / "samples" / "feeds"}/')
        .replace('url = "archive.jsonl"', f'url = "{REPO / "samples" / "archive.jsonl"}"')
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGESTBOT_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "--config", str(config), "run"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a process group of its own, as a terminal gives it
    )
    try:
        assert proc.stderr is not None
        # The warning comes once the store is up; the first cycle runs right after it.
        for _ in range(100):
            line = proc.stderr.readline()
            if not line or "console sinks only" in line:
                break
        assert "console sinks only" in line
        time.sleep(0.3)
        began = time.monotonic()
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        took = time.monotonic() - began
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err[-3000:]
    assert took < 10.0
    assert "Traceback" not in err and "unavailable" not in err, err[-3000:]
