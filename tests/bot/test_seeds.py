"""The specification example: the five articles in ../shared/seeds, replayed in date order.

The seed texts are read at test time and never copied into the project. Each
file is given the date the article itself reports (the files have no common
metadata format), in the order 004, 000, 001, 002, 003.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO.parent / "shared" / "seeds"
DATES = {
    "004": "2024-11-01T09:00:00+00:00",
    "000": "2025-04-28T09:00:00+00:00",
    "001": "2025-04-28T15:00:00+00:00",
    "002": "2025-07-12T09:00:00+00:00",
    "003": "2025-08-10T09:00:00+00:00",
}
NOISE = ("WERBUNG", "Werbung", "Newsletter", "Diesen Artikel teilen", "More Stories", "see more")


def _seed_jsonl(tmp: Path) -> Path:
    lines = []
    for number, published in DATES.items():
        path = next(SEEDS.glob(f"{number}_*.txt"))
        text = path.read_text(encoding="utf-8")
        lines.append(
            json.dumps(
                {
                    "id": number,
                    "url": f"https://seeds.invalid/{path.stem}",
                    "source": f"seed-{number}",
                    "title": "",
                    "published": published,
                    "text": text,
                },
                ensure_ascii=False,
            )
        )
    out = tmp / "seeds.jsonl"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def replay(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    if not SEEDS.is_dir():
        pytest.skip(f"{SEEDS} not present")
    tmp = tmp_path_factory.mktemp("seeds")
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "replay", str(_seed_jsonl(tmp)), "--fresh",
         "--format", "json"],
        capture_output=True, text=True, timeout=120, cwd=REPO,
        env={**os.environ, "DIGESTBOT_DATA_DIR": str(tmp)},
    )
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["id"] for r in records] == list(DATES)
    return {r["id"]: r for r in records}


def test_000_and_001_form_one_story_and_nothing_else_joins(
    replay: dict[str, dict[str, Any]],
) -> None:
    assert replay["000"]["status"] == "new_story"
    assert replay["001"]["status"] == "update"
    assert replay["001"]["story"] == replay["000"]["story"]
    for other in ("002", "003", "004"):
        assert replay[other]["story"] != replay["000"]["story"], other
        assert replay[other]["status"] == "new_story", other


def test_001_posts_only_what_000_did_not_say(replay: dict[str, dict[str, Any]]) -> None:
    facts = replay["001"]["new_facts"]
    texts = [f["sentence"] for f in facts]
    # Already posted from 000: North Korea's official confirmation, Putin's thanks.
    assert not [f for f in facts if f["type"] == "confirmation"], texts
    thanks = [f for f in facts if f["type"] == "thanks_praise" and "Putin" in f["sentence"]]
    assert not thanks, texts
    # Only 001 has these: the Kremlin's 26 April claim, readiness to negotiate, the Crimea hint.
    assert any("26. April" in t for t in texts), texts
    assert any("Verhandlungen" in t for t in texts), texts
    assert any("Krim" in t for t in texts), texts


def test_no_page_noise_is_ever_posted(replay: dict[str, dict[str, Any]]) -> None:
    for record in replay.values():
        for fact in record["new_facts"]:
            assert not any(n in fact["sentence"] for n in NOISE), fact
            assert fact["sentence"].strip() not in ("Journalismus", "Loader", "Finden Sie uns")
