"""`digestbot run --once` and `replay` end to end: real HTTP feeds, real Redis, the real CLI."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bot.keys import Keys
from tests.httpserver import FeedServer

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples"


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def samples_server() -> Iterator[str]:
    handler = functools.partial(_Quiet, directory=str(SAMPLES))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def digestbot(
    *args: str, redis_url: str, tmp: Path, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DIGESTBOT_REDIS_URL": redis_url, "DIGESTBOT_DATA_DIR": str(tmp)}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        env=env,
    )


def write_config(path: Path, prefix: str, feeds: list[tuple[str, str]]) -> None:
    lines = [
        f'[redis]\nprefix = "{prefix}"\n',
        "[poller]\nread_timeout = 2.0\nconnect_timeout = 2.0\nmax_body_bytes = 1048576\n",
        # The feeds are on loopback, which the SSRF guard refuses unless allowed.
        '[security]\nallow = ["127.0.0.1"]\n',
    ]
    for name, url in feeds:
        lines.append(f'[[feeds]]\nurl = "{url}"\nname = "{name}"\nfull_text = "never"\n')
    path.write_text("\n".join(lines))


async def test_bad_feeds_fail_alone_and_nothing_is_lost(
    tmp_path: Path,
    redis_url: str,
    keys: Keys,
    samples_server: str,
    feed_server: FeedServer,
    redis_client: object,
) -> None:
    good = sorted(p.name for p in (SAMPLES / "feeds").glob("*.xml"))[:6]
    feeds = [(f"good{i}", f"{samples_server}/feeds/{name}") for i, name in enumerate(good)]
    bad = [
        ("server-error", feed_server.url("/status/500")),
        ("endless", feed_server.url("/endless")),
        ("html-page", feed_server.url("/page.html")),
        ("garbage", feed_server.url("/malformed.xml")),
        ("flaky", feed_server.url("/flaky")),
    ]
    config = tmp_path / "c.toml"
    write_config(config, keys.prefix, feeds + bad)

    first = digestbot("--config", str(config), "run", "--once", redis_url=redis_url, tmp=tmp_path)
    assert first.returncode == 0, first.stderr
    for name in ("server-error", "endless", "html-page", "garbage", "flaky"):
        assert f"feed {name}:" in first.stderr
    assert "exceeds" in first.stderr  # the endless body was cut off, not buffered
    assert first.stdout.count("[New story]") >= 6

    # The flaky feed recovers: its article arrives on the next cycle, nothing was lost.
    feed_server.st.flaky_status = 200
    second = digestbot("--config", str(config), "run", "--once", redis_url=redis_url, tmp=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "First item" in second.stdout
    # Everything from the good feeds was already posted: no story is announced twice.
    assert second.stdout.count("[New story]") == 1


def test_replay_contract_reports_every_planted_duplicate(tmp_path: Path, redis_url: str) -> None:
    proc = digestbot(
        "replay",
        str(SAMPLES / "articles.jsonl"),
        "--fresh",
        "--format",
        "json",
        redis_url="",
        tmp=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    inputs = [json.loads(line) for line in (SAMPLES / "articles.jsonl").read_text().splitlines()]
    assert [r["id"] for r in records] == [a["id"] for a in inputs]
    gold = json.loads((SAMPLES / "labels.json").read_text())["articles"]
    for r in records:
        assert set(r) == {"id", "status", "duplicate_of", "story", "new_facts"}
        assert r["status"] in {"new_story", "update", "no_new_facts", "duplicate"}
        assert r["duplicate_of"] == gold[r["id"]]["duplicate_of"], r["id"]
        assert (r["status"] == "duplicate") == (gold[r["id"]]["duplicate_of"] is not None)
        for fact in r["new_facts"]:
            assert set(fact) == {"type", "text", "sentence"}
            text = next(a["text"] for a in inputs if a["id"] == r["id"])
            assert fact["sentence"] in text


def test_replay_fresh_leaves_configured_store_untouched(
    tmp_path: Path, redis_url: str, keys: Keys
) -> None:
    import redis

    config = tmp_path / "c.toml"
    write_config(config, keys.prefix, [])
    proc = digestbot(
        "--config",
        str(config),
        "replay",
        str(SAMPLES / "archive.jsonl"),
        "--fresh",
        redis_url=redis_url,
        tmp=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    client = redis.Redis.from_url(redis_url)
    try:
        assert list(client.scan_iter(match=keys.all_pattern())) == []
    finally:
        client.close()


def test_replay_explain_says_why_for_every_article_and_sentence(
    tmp_path: Path, redis_url: str
) -> None:
    proc = digestbot(
        "replay",
        str(SAMPLES / "articles.jsonl"),
        "--fresh",
        "--format",
        "text",
        "--explain",
        redis_url="",
        tmp=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    inputs = [
        json.loads(line)["id"] for line in (SAMPLES / "articles.jsonl").read_text().splitlines()
    ]
    for ident in inputs:
        assert f"why {ident}:" in proc.stdout
    assert "  duplicate (exact, url) of " in proc.stdout
    assert "  duplicate (near, minhash) of " in proc.stdout
    assert "  story: joined s" in proc.stdout and "  story: started a new story" in proc.stdout
    assert "  known   [" in proc.stdout and "          = " in proc.stdout
    assert "  skipped (" in proc.stdout
