"""`digestbot run` with Telegram: a user subscribes by command, digests arrive in the chat.

The real process, a real Redis, a feed on loopback and the Telegram Bot API
emulator reached through ``telegram.base_url``.
"""

from __future__ import annotations

import asyncio
import functools
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bot.keys import Keys
from tests.telegram_emulator import DEFAULT_TOKEN, RateLimits, TelegramEmulator

REPO = Path(__file__).resolve().parents[2]
FEEDS = REPO / "samples" / "feeds"
EMPTY_RSS = '<?xml version="1.0"?><rss version="2.0"><channel><title>x</title></channel></rss>'


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def feed_dir(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    root = tmp_path / "www"
    root.mkdir()
    (root / "feed.xml").write_text(EMPTY_RSS)
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}/feed.xml"
    finally:
        server.shutdown()
        server.server_close()


async def test_subscribe_then_digests_arrive_once(
    tmp_path: Path, redis_url: str, keys: Keys, feed_dir: tuple[Path, str], redis_client: object
) -> None:
    emu = TelegramEmulator(limits=RateLimits(enabled=False)).start()
    try:
        emu.add_user(501, "Ada", language_code="en")
        emu.add_chat(501, "private", first_name="Ada")
        root, feed_url = feed_dir
        config = tmp_path / "c.toml"
        config.write_text(
            f'[redis]\nprefix = "{keys.prefix}"\n'
            f'[telegram]\nbase_url = "{emu.url}"\nowners = [501]\nper_chat_per_second = 50.0\n'
            '[security]\nallow = ["127.0.0.1"]\n'  # the feed is on loopback
            f'[[feeds]]\nurl = "{feed_url}"\nname = "Loopback"\ninterval = 1\n'
            'full_text = "never"\n'
        )
        env = {
            **os.environ,
            "DIGESTBOT_REDIS_URL": redis_url,
            "DIGESTBOT_TELEGRAM_TOKEN": DEFAULT_TOKEN,
            "DIGESTBOT_DATA_DIR": str(tmp_path),
        }
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "--config", str(config), "run"],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            emu.push_message(501, 501, "/subscribe")
            replies = await emu.wait_for_messages_async(501, 1, timeout=30)
            assert "ubscribed" in replies[0].text  # "Subscribed …" in English
            # The feed now carries news: the next cycle posts it to the chat.
            shutil.copy(FEEDS / "elbflorenz-nachrichten.xml", root / "feed.xml")
            # Newer than anything the poller saw, whatever the clock's resolution.
            later = (root / "feed.xml").stat().st_mtime + 10
            os.utime(root / "feed.xml", (later, later))
            sent = await emu.wait_for_messages_async(501, 2, timeout=60)
            digests = [m for m in sent[1:] if m.parse_mode == "HTML"]
            assert digests and "<b>" not in digests[0].text  # rendered as entities, not raw tags
            await asyncio.sleep(3)  # a few more cycles: nothing is posted twice
            texts = [m.text for m in emu.sent(501)[1:]]
            assert len(texts) == len(set(texts))
            assert emu.stats.rejected == 0
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                _, err = proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                _, err = proc.communicate()
        assert proc.returncode == 0, err[-2000:]
        assert DEFAULT_TOKEN not in err
    finally:
        emu.stop()
