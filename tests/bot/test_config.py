"""Configuration: the example documents every default; bad input names file and key."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from bot.config import Config, load_config
from bot.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def test_example_documents_exactly_the_defaults() -> None:
    example = load_config(REPO / "config.example.toml", env={})
    defaults = Config()
    assert replace(example, path="", data_dir=Path("data")) == replace(
        defaults, path="", data_dir=Path("data")
    )
    assert example.data_dir == REPO / "data"


@pytest.mark.parametrize(
    ("body", "key", "problem"),
    [
        ("[poller]\ninterval = 'often'\n", "poller.interval", "expected an integer"),
        ("[poller]\ninterval = 0\n", "poller.interval", ">= 1"),
        ("[redis]\nurl = 'http://x'\n", "redis.url", "must start with"),
        ("[telegram]\ntoken = '123:abc'\n", "telegram.token", "DIGESTBOT_TELEGRAM_TOKEN"),
        ("[[feeds]]\nname = 'x'\n", "feeds[0].url", "missing"),
        ("[[feeds]]\nurl = 'ftp://x'\n", "feeds[0].url", "must be"),
        ("[[feeds]]\nurl = 'a.xml'\nfull_text = 'sometimes'\n", "feeds[0].full_text", "one of"),
        ("[dedup]\nttl = 3\n", "dedup.ttl", "unknown key"),
        ("colour = 'blue'\n", "colour", "unknown key"),
        ("[poller\n", "", "invalid TOML"),
    ],
)
def test_bad_values_name_file_key_and_problem(
    tmp_path: Path, body: str, key: str, problem: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(body)
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert info.value.key == key
    assert problem in str(info.value)
    assert str(path) in str(info.value)


def test_secrets_and_url_come_from_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[redis]\nurl = ''\n")
    cfg = load_config(
        path,
        env={"DIGESTBOT_TELEGRAM_TOKEN": "t0k3n", "DIGESTBOT_REDIS_URL": "redis://127.0.0.1:1/0"},
    )
    assert cfg.telegram.token == "t0k3n"
    assert "t0k3n" not in repr(cfg)
    assert cfg.redis.url == "redis://127.0.0.1:1/0"


def _digestbot(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env=env,
    )


def test_cli_bad_config_exits_2_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[poller]\nmax_body_bytes = -5\n")
    proc = _digestbot("--config", str(path), "check-config")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "poller.max_body_bytes" in lines[0] and str(path) in lines[0]
    assert "Traceback" not in proc.stderr


def test_cli_unreachable_redis_exits_1_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        "[redis]\nurl = 'redis://:secretpw@127.0.0.1:1/0'\nconnect_timeout = 0.5\n"
        "[[feeds]]\nurl = 'feed.xml'\n"
    )
    proc = _digestbot("--config", str(path), "run", "--once")
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot reach Redis" in lines[0]
    assert "secretpw" not in proc.stderr
