"""Reading articles from local files and folders (replay input and file feeds)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bot.errors import InputError
from digests.feeds import parse_feed, parse_jsonl
from digests.models import Article

ARCHIVE_SUFFIXES = (".jsonl", ".ndjson")
FEED_SUFFIXES = (".xml", ".rss", ".atom", ".rdf", ".json", ".feed")
MAX_FILE_BYTES = 256 * 1024 * 1024


@dataclass(slots=True)
class Loaded:
    """Articles read from one path, and the per-record problems met on the way."""

    articles: list[Article] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(
            p
            for p in path.rglob("*")
            if p.is_file() and p.suffix.lower() in ARCHIVE_SUFFIXES + FEED_SUFFIXES
        )
    return [path]


def articles_from_bytes(
    data: bytes, *, name: str, source: str, now: datetime, content_type: str | None = None
) -> Loaded:
    """Parse one document: a JSONL archive by its name, otherwise a feed (XML or JSON Feed)."""
    if name.lower().endswith(ARCHIVE_SUFFIXES):
        articles, problems = parse_jsonl(data, source=source, now=now)
        return Loaded(articles, [f"{name}: {p}" for p in problems])
    parsed = parse_feed(data, source=source, now=now, url=name, content_type=content_type)
    errors = [f"{name}: {parsed.error}"] if parsed.error and not parsed.articles else []
    return Loaded(parsed.articles, errors)


def load_path(path: Path, *, now: datetime, source: str = "") -> Loaded:
    """Every article under ``path`` (a file or a folder), in file order."""
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    out = Loaded()
    for file in _files(path):
        try:
            size = file.stat().st_size
            if size > MAX_FILE_BYTES:
                out.errors.append(f"{file}: larger than {MAX_FILE_BYTES} bytes, skipped")
                continue
            data = file.read_bytes()
        except OSError as exc:
            raise InputError(f"{file}: cannot read: {exc.strerror or exc}") from None
        loaded = articles_from_bytes(data, name=str(file), source=source or file.stem, now=now)
        out.articles.extend(loaded.articles)
        out.errors.extend(loaded.errors)
    return out
