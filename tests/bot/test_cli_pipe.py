"""`digestbot replay … | head`: a reader that stops early ends the run quietly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_replay_into_a_closed_pipe_ends_quietly() -> None:
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "bot.cli", "replay", "--fresh", "--format", "json",
            "--explain", str(REPO / "samples" / "articles.jsonl"),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.read(200)  # far less than the run prints (more than a pipe holds)
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0, stderr
    assert first.startswith(b'{"id": ')
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr
