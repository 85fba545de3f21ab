"""Secrets are masked in log output: registered ones and secret-shaped text alike."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import load_config
from bot.log_redaction import MASK, Redactor, config_secrets, install

REPO = Path(__file__).resolve().parents[2]


def token_shaped(bot_id: int, filler: str) -> str:
    """A string shaped like a bot token, made at run time: no token-like literal is kept
    in the repository, not even a fake one."""
    return f"{bot_id}:{(filler * 35)[:35]}"


TOKEN = token_shaped(7654321098, "AAHx-FAKE_tests_only_")
REDIS_PASSWORD = "s3cr3t-redis-pw"


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO, Redactor]]:
    """A logger tree of its own with one handler, as ``logging.basicConfig`` makes it."""
    parent = logging.getLogger("redaction-test")
    parent.propagate = False
    parent.setLevel(logging.DEBUG)
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    parent.addHandler(handler)
    try:
        yield parent, out, install([TOKEN, REDIS_PASSWORD], parent)
    finally:
        parent.removeHandler(handler)


def test_a_record_with_the_token_comes_out_masked(
    captured: tuple[logging.Logger, io.StringIO, Redactor],
) -> None:
    parent, out, _ = captured
    # A child logger, as httpx's or telegram's records reach the root handler.
    child = parent.getChild("httpx")
    child.info('HTTP Request: POST https://api.telegram.org/bot%s/sendMessage "200 OK"', TOKEN)
    child.warning("redis at redis://default:%s@db:6379/0 unreachable", REDIS_PASSWORD)
    text = out.getvalue()
    assert TOKEN not in text and REDIS_PASSWORD not in text
    assert f"https://api.telegram.org/bot{MASK}/sendMessage" in text
    assert f"redis://default:{MASK}@db:6379/0" in text


def test_tracebacks_and_unregistered_secret_shapes_are_masked(
    captured: tuple[logging.Logger, io.StringIO, Redactor],
) -> None:
    parent, out, redactor = captured
    try:
        raise RuntimeError(f"failed to call https://api.telegram.org/bot{TOKEN}/getMe")
    except RuntimeError:
        parent.exception("bot start failed")
    other = token_shaped(123456789, "ABCdefGhIJKlmNoPQRsTUVwxyZ")  # nobody registered it
    parent.error("token %s, feed https://reader:hunter2pw@feeds.example/rss", other)
    redactor.add("whsec_0123456789abcdef")
    parent.error("signing with whsec_0123456789abcdef")
    text = out.getvalue()
    for secret in (TOKEN, other, "hunter2pw", "whsec_0123456789abcdef"):
        assert secret not in text
    assert "RuntimeError" in text and "Traceback" in text  # the traceback itself survives
    assert "https://reader:***@feeds.example/rss" in text


def test_config_secrets_collects_every_secret_from_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("")
    cfg = load_config(
        path,
        env={
            "DIGESTBOT_TELEGRAM_TOKEN": TOKEN,
            "DIGESTBOT_REDIS_URL": f"redis://:{REDIS_PASSWORD}@127.0.0.1:6379/0",
        },
    )
    secrets = config_secrets(cfg)
    assert TOKEN in secrets and REDIS_PASSWORD in secrets


def test_the_cli_masks_the_redis_password_it_fails_with(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[redis]\nconnect_timeout = 0.5\n[[feeds]]\nurl = 'x.xml'\n")
    env = {
        **os.environ,
        "DIGESTBOT_REDIS_URL": f"redis://:{REDIS_PASSWORD}@127.0.0.1:1/0",
        "DIGESTBOT_TELEGRAM_TOKEN": TOKEN,
    }
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "-vv", "--config", str(path), "run", "--once"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert REDIS_PASSWORD not in proc.stderr and TOKEN not in proc.stderr
