"""A hostile feed fails alone: `run --once` reports it and every other feed is posted."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from bot.keys import Keys
from tests.digests.test_xml_safety import BILLION_LAUGHS, XXE_FILE

REPO = Path(__file__).resolve().parents[2]
GOOD = REPO / "samples" / "feeds" / "elbflorenz-nachrichten.xml"


def test_entity_bombs_are_a_per_feed_error_and_the_rest_is_posted(
    tmp_path: Path, redis_url: str, keys: Keys, redis_client: object
) -> None:
    (tmp_path / "bomb.xml").write_bytes(BILLION_LAUGHS)
    (tmp_path / "xxe.xml").write_bytes(XXE_FILE)
    shutil.copy(GOOD, tmp_path / "good.xml")
    config = tmp_path / "c.toml"
    config.write_text(
        f'[redis]\nprefix = "{keys.prefix}"\n'
        + "".join(
            f'[[feeds]]\nurl = "{name}.xml"\nname = "{name}"\nfull_text = "never"\n'
            for name in ("bomb", "xxe", "good")
        )
    )
    env = {**os.environ, "DIGESTBOT_REDIS_URL": redis_url, "DIGESTBOT_DATA_DIR": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--config", str(config), "run", "--once"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    for name in ("bomb", "xxe"):
        assert re.search(rf"feed {name}: \S+: entity declarations refused", proc.stderr)
    assert "root:" not in proc.stdout + proc.stderr
    assert proc.stdout.count("[New story]") >= 1  # the good feed went through as usual
