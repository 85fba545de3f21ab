"""Redis at maxmemory: a clear one-line error, and a rerun after the fix loses nothing.

`digestbot run --once` over the sample feeds against a Valkey server whose
``maxmemory`` (policy ``noeviction``) is reached part-way through. The run must
stop with exit status 1 and one line saying what happened, no traceback. Once
the limit is raised, a second run must print exactly the digests a run on a
healthy server prints: nothing half-written was taken for done. The limit is
placed at several points of the run, as each step writes in its own way.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from bot.keys import Keys
from bot.redis_conn import EmbeddedServer
from tests.bot.test_chaos import FEEDS

REPO = Path(__file__).resolve().parents[2]


def write_config(path: Path, prefix: str) -> None:
    feeds = "".join(
        f'[[feeds]]\nurl = "{feed}"\nname = "{feed.stem}"\nfull_text = "never"\n'
        for feed in sorted(FEEDS.iterdir())
        if feed.suffix in (".xml", ".json")
    )
    path.write_text(f'[redis]\nprefix = "{prefix}"\n[[sinks]]\ntype = "console"\n' + feeds)


def _env(url: str, data: Path) -> dict[str, str]:
    env = {**os.environ, "DIGESTBOT_REDIS_URL": url, "DIGESTBOT_DATA_DIR": str(data)}
    env.pop("DIGESTBOT_TELEGRAM_TOKEN", None)
    return env


def _command(config: Path) -> list[str]:
    return [sys.executable, "-m", "bot.cli", "--config", str(config), "run", "--once"]


def run_once(config: Path, url: str, data: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _command(config),
        cwd=REPO,
        env=_env(url, data),
        capture_output=True,
        text=True,
        timeout=120,
    )


def run_with_limit_after_first_story(
    config: Path, url: str, data: Path, client: redis.Redis, keys: Keys
) -> subprocess.CompletedProcess[str]:
    """A run whose store fills up right after it has written its first story: the limit is
    set, from outside, once the story counter moves (the journal's transient peak comes
    before, so no fixed share of a run's memory is sure to fall in the story saves)."""
    proc = subprocess.Popen(
        _command(config),
        cwd=REPO,
        env=_env(url, data),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not int(client.get(keys.story_seq()) or 0):
            assert proc.poll() is None, "the run ended before it wrote a story"
            assert time.monotonic() < deadline
            time.sleep(0.002)
        client.config_set("maxmemory", str(int(client.info("memory")["used_memory"]) + 4096))
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def linked(client: redis.Redis, keys: Keys) -> set[bytes]:
    """The article→story links of a run (digests of the article ids)."""
    return {key.rsplit(b":", 1)[1] for key in client.scan_iter(match=f"{keys.prefix}:a2s:*")}


@pytest.mark.timeout(300)
def test_maxmemory_stops_with_one_line_and_a_rerun_completes(tmp_path: Path, keys: Keys) -> None:
    server = EmbeddedServer(tmp_path / "own-redis")
    url = server.start()
    client = redis.Redis.from_url(url)
    try:
        config = tmp_path / "c.toml"
        write_config(config, keys.prefix + "-ref")
        empty = int(client.info("memory")["used_memory"])
        reference = run_once(config, url, tmp_path)
        assert reference.returncode == 0, reference.stderr[-2000:]
        assert "New story" in reference.stdout
        work_bytes = int(client.info("memory")["used_memory"]) - empty
        client.config_set("maxmemory-policy", "noeviction")
        stopped, wrote_stories = 0, False
        # The limit falls at different steps of the run: while journaling, claiming and
        # counting source lines (shares of what a whole run stores), and, last, while
        # saving stories (each a round trip of many writes).
        for step, share in enumerate((0.1, 0.25, 0.4, 0.55, None)):
            work = Keys(f"{keys.prefix}-{step}")
            write_config(config, work.prefix)
            if share is None:
                full = run_with_limit_after_first_story(config, url, tmp_path, client, work)
            else:
                start = int(client.info("memory")["used_memory"])
                client.config_set("maxmemory", str(start + int(work_bytes * share)))
                full = run_once(config, url, tmp_path)
            client.config_set("maxmemory", "0")
            if full.returncode == 0:
                continue  # the limit was not reached on this machine
            assert full.returncode == 1, full.stderr[-2000:]
            lines = [line for line in full.stderr.splitlines() if line.startswith("digestbot:")]
            assert len(lines) == 1 and "out of memory" in lines[0], full.stderr[-2000:]
            assert "Traceback" not in full.stderr
            stopped += 1
            wrote_stories |= int(client.get(work.story_seq()) or 0) > 0

            resumed = run_once(config, url, tmp_path)
            assert resumed.returncode == 0, resumed.stderr[-2000:]
            # Every article reached a story, exactly the ones of the undisturbed run.
            assert linked(client, work) == linked(client, Keys(keys.prefix + "-ref"))
            assert client.xlen(work.ingest_stream()) == 0
            # Every message of the undisturbed run was printed, word for word: no fact was
            # taken for known because a write of the stopped run landed half-way.
            assert resumed.stdout.split("\n\n") == reference.stdout.split("\n\n"), share
            again = run_once(config, url, tmp_path)
            assert again.returncode == 0 and "[New story]" not in again.stdout
        # The limits did stop runs, and at least one after it had written stories.
        assert stopped >= 2 and wrote_stories, (stopped, wrote_stories)
    finally:
        client.close()
        server.stop()
