"""The compiled digests core (``make native``): it runs only while it matches its sources,
and it gives the same digests as the sources."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.native import BUILD

REPO = Path(__file__).resolve().parents[2]
PROBE = (
    "import bot, digests.facts as f, digests.fingerprints as g; "
    "print(bot.native.BUILD); print(f.__file__); print(getattr(g, 'EDITED', 'no'))"
)

compiled_only = pytest.mark.skipif(
    not BUILD.startswith("compiled"), reason=f"the digests core is not compiled here ({BUILD})"
)


def _copy(tmp: Path) -> Path:
    """The repository's bot and digests, compiled modules and record included."""
    for name in ("bot", "digests"):
        shutil.copytree(REPO / name, tmp / name, ignore=shutil.ignore_patterns("__pycache__"))
    return tmp


def _probe(root: Path, **env: str) -> list[str]:
    run = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return [*run.stdout.splitlines(), run.stderr]


@compiled_only
def test_an_edited_source_runs_instead_of_the_old_build(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    build, facts_file, edited, _ = _probe(root)
    assert build == "compiled" and facts_file.endswith(".so") and edited == "no"

    with (root / "digests" / "fingerprints.py").open("a", encoding="utf-8") as fh:
        fh.write("\nEDITED = 'yes'\n")
    build, facts_file, edited, stderr = _probe(root)
    assert edited == "yes"  # the edit is what runs
    # and the whole group comes from source: compiled modules call each other natively
    assert facts_file.endswith("facts.py")
    assert build == "sources (compiled build is stale)"
    assert "fingerprints.py changed after `make native`" in stderr


@compiled_only
def test_no_record_means_no_compiled_build(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    (root / "digests" / "native-build.json").unlink()
    build, facts_file, _, stderr = _probe(root)
    assert build == "sources (compiled build is stale)"
    assert facts_file.endswith("facts.py") and "StaleBuildWarning" in stderr


@compiled_only
def test_compiled_and_source_builds_give_the_same_digests(tmp_path: Path) -> None:
    outputs = []
    for pure in ("0", "1"):
        run = subprocess.run(
            [
                sys.executable, "-m", "bot.cli", "replay", "--fresh", "--format", "json",
                "--explain", str(REPO / "samples" / "articles.jsonl"),
            ],
            cwd=REPO,
            env={**os.environ, "DIGESTBOT_PURE": pure, "PYTHONHASHSEED": "0"},
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        outputs.append(run.stdout)
    compiled, source = outputs
    assert len(json.loads(compiled.splitlines()[0])) > 0
    assert compiled == source
