"""Robustness over feedparser's own test corpus (about 2,100 odd, broken and exotic feeds).

The corpus lives outside the repository; the test is skipped when it is absent.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from digests.feeds import parse_feed

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpora" / "feedparser-tests"
NOW = datetime(2025, 6, 12, 12, 0, tzinfo=UTC)
TIME_BUDGET_S = 60.0

# The corpus files state the HTTP headers they expect in a leading comment.
_HEADER = re.compile(rb"^Header:\s*Content-type:\s*(.+?)\s*$", re.IGNORECASE | re.MULTILINE)


def _content_type(data: bytes) -> str | None:
    match = _HEADER.search(data[:2048])
    return match.group(1).decode("latin-1") if match else None


@pytest.mark.corpus
def test_every_corpus_file_yields_articles_or_an_error() -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"feedparser test corpus not found at {CORPUS}")
    files = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.suffix == ".xml")
    if not files:
        pytest.skip(f"feedparser test corpus at {CORPUS} holds no .xml files")

    failures: list[str] = []
    with_articles = 0
    started = time.perf_counter()
    for path in files:
        data = path.read_bytes()
        name = str(path.relative_to(CORPUS))
        try:
            feed = parse_feed(
                data,
                source="corpus",
                now=NOW,
                url="http://example.com/feed.xml",
                content_type=_content_type(data),
            )
        except Exception as exc:  # the contract under test is "never raises"
            failures.append(f"{name}: raised {type(exc).__name__}: {exc}")
            continue
        if feed.articles:
            with_articles += 1
            bad = [a.id for a in feed.articles if a.published.tzinfo is None or len(a.id) != 16]
            if bad:
                failures.append(f"{name}: malformed articles {bad}")
        elif not feed.error:
            failures.append(f"{name}: neither articles nor an error")
    elapsed = time.perf_counter() - started

    assert not failures, f"{len(failures)} of {len(files)} files failed:\n" + "\n".join(failures)
    # Sanity: the well-formed part of the corpus must actually produce articles.
    assert with_articles >= len(files) // 10, f"only {with_articles} files yielded articles"
    assert elapsed < TIME_BUDGET_S, f"corpus took {elapsed:.1f}s"
