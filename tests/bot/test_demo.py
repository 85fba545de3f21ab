"""The demo job on the embedded store: digests printed, state persisted across runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_demo(data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DIGESTBOT_REDIS_URL", "REDIS_URL")}
    env["DIGESTBOT_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "--config", "samples/demo.toml", "run", "--once"],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=REPO,
        env=env,
    )


def test_demo_prints_digests_then_remembers_them(tmp_path: Path) -> None:
    first = run_demo(tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.count("[New story]") >= 10
    assert "[Update]" in first.stdout
    assert "0 feed errors" in first.stderr
    # The embedded server kept its append-only file under data_dir and stopped cleanly.
    assert list((tmp_path / "redis").rglob("*.aof*")) or list(
        (tmp_path / "redis").rglob("appendonly*")
    )
    second = run_demo(tmp_path)
    assert second.returncode == 0, second.stderr
    assert "[New story]" not in second.stdout
    assert "0 new stories" in second.stderr


def test_feeds_add_list_remove(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DIGESTBOT_REDIS_URL", "REDIS_URL")}
    env["DIGESTBOT_DATA_DIR"] = str(tmp_path)
    base = [sys.executable, "-m", "bot.cli", "--config", "samples/demo.toml", "feeds"]

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*base, *args], capture_output=True, text=True, timeout=60, cwd=REPO, env=env
        )

    assert cli("add", "https://news.example/rss.xml", "--name", "Example").returncode == 0
    listed = cli("list")
    assert "https://news.example/rss.xml" in listed.stdout and "Example" in listed.stdout
    assert cli("remove", "https://news.example/rss.xml").returncode == 0
    assert "https://news.example/rss.xml" not in cli("list").stdout
    bad = cli("add", "ftp://news.example/x")
    assert bad.returncode == 2 and "http(s)" in bad.stderr
    missing = cli("remove", "https://nothing.example/")
    assert missing.returncode == 1 and "not an added feed" in missing.stderr
