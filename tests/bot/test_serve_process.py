"""The real `digestbot serve` process: configured by file and environment, stopped by
SIGTERM and started again; one digest reaches Telegram and every webhook exactly once."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from bot.config import sink_env
from bot.keys import Keys
from tests.telegram_emulator import RateLimits, TelegramEmulator
from tests.webhook_receivers import GENERIC_SECRET, MATRIX_TOKEN, PLATFORMS, WebhookReceivers

REPO = Path(__file__).resolve().parents[2]
ARTICLES = [json.loads(line) for line in (REPO / "samples" / "articles.jsonl").open()]
READER = 8101
SECRET = "process-secret_42"
TOKEN = "process-ingest-token-42"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


@pytest.fixture
def receivers() -> Iterator[WebhookReceivers]:
    server = WebhookReceivers().start()
    try:
        yield server
    finally:
        server.stop()


def test_serve_process_restart_delivers_once(
    tmp_path: Path, redis_url: str, keys: Keys, receivers: WebhookReceivers, redis_client: object
) -> None:
    emu = TelegramEmulator(limits=RateLimits(enabled=False), strict_webhook_urls=False).start()
    try:
        emu.add_user(READER, "Rosa", language_code="en")
        emu.add_chat(READER, "private")
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        hooks = "".join(
            f'[[webhooks]]\nname = "{p}"\nplatform = "{p}"\n'
            + ('room = "!r:example.org"\n' if p == "matrix" else "")
            for p in PLATFORMS
        )
        config = tmp_path / "c.toml"
        config.write_text(
            f'[redis]\nprefix = "{keys.prefix}"\n'
            f'[telegram]\nbase_url = "{emu.url}"\nper_chat_per_second = 50.0\n'
            f'[serve]\nport = {port}\npoll = false\ntelegram_webhook_url = "{base}/telegram"\n'
            "[webhook_delivery]\nbackoff_base = 0.05\nbackoff_max = 0.2\n"
            # The receivers live on loopback, which the SSRF guard refuses by default.
            '[security]\nallow = ["127.0.0.1"]\n' + hooks
        )
        env = {
            **os.environ,
            "DIGESTBOT_REDIS_URL": redis_url,
            "DIGESTBOT_TELEGRAM_TOKEN": emu.token,
            "DIGESTBOT_DATA_DIR": str(tmp_path),
            "DIGESTBOT_WEBHOOK_SECRET": SECRET,
            "DIGESTBOT_INGEST_TOKEN": TOKEN,
            sink_env("matrix", "TOKEN"): MATRIX_TOKEN,
            sink_env("generic", "SECRET"): GENERIC_SECRET,
        }
        for p in PLATFORMS:
            env[sink_env(p, "URL")] = receivers.hook_url(p)

        def start() -> subprocess.Popen[str]:
            proc = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "--config", str(config), "serve"],
                cwd=REPO,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )

            def up() -> bool:
                assert proc.poll() is None, proc.communicate()[1][-2000:]
                try:
                    return httpx.get(base + "/healthz", timeout=1).status_code == 200
                except httpx.HTTPError:
                    return False

            _wait(up, 20, "serve did not come up")
            return proc

        def stop(proc: subprocess.Popen[str]) -> str:
            proc.send_signal(signal.SIGTERM)
            try:
                _, err = proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                _, err = proc.communicate()
            assert proc.returncode == 0, err[-2000:]
            return err

        def ingest(article: dict[str, object]) -> str:
            response = httpx.post(
                base + "/ingest",
                json=article,
                headers={"Authorization": f"Bearer {TOKEN}"},
                timeout=30,
            )
            assert response.status_code == 200, response.text
            return str(response.json()["results"][0]["status"])

        proc = start()
        errors = ""
        try:
            assert emu.webhook.url == base + "/telegram" and emu.webhook.secret_token == SECRET
            emu.push_message(READER, READER, "/subscribe")  # arrives by webhook
            emu.wait_for_messages(READER, 1, timeout=15)
            assert ingest(ARTICLES[0]) == "new_story"
            _wait(lambda: all(receivers.accepted(p) for p in PLATFORMS), 15, "webhooks")
            emu.wait_for_messages(READER, 2, timeout=15)
        finally:
            errors += stop(proc)
        proc = start()
        try:
            assert ingest(ARTICLES[0]) == "duplicate"
            time.sleep(0.3)  # a repeat would go out at once: the senders read pending first
        finally:
            errors += stop(proc)
        assert len([m for m in emu.sent(READER) if m.parse_mode == "HTML"]) == 2  # reply+digest
        for platform in PLATFORMS:
            assert len(receivers.accepted(platform)) == 1, platform
        for secret in (SECRET, TOKEN, emu.token, receivers.hook_url("slack")):
            assert secret not in errors
    finally:
        emu.stop()
