"""The embedded Redis: several start side by side (a replay beside a running bot)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import redis

REPO = Path(__file__).resolve().parents[2]
# Starts a server, prints its URL, serves until its standard input closes.
SERVE = """
import sys
from pathlib import Path
from bot.redis_conn import EmbeddedServer
server = EmbeddedServer(Path(sys.argv[1]))
print(server.start(), flush=True)
sys.stdin.read()
server.stop()
"""


def test_servers_of_processes_starting_at_once_each_get_a_port(tmp_path: Path) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SERVE, str(tmp_path / f"s{i}")],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(4)
    ]
    try:
        urls = []
        for proc in procs:
            assert proc.stdout is not None
            line = proc.stdout.readline().strip()
            assert line.startswith("redis://"), proc.communicate(timeout=30)[1]
            urls.append(line)
        assert len(set(urls)) == len(procs)
        for i, url in enumerate(urls):
            client = redis.Redis.from_url(url)
            client.set("who", i)
            assert client.get("who") == str(i).encode()
            client.close()
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.communicate(timeout=30)
