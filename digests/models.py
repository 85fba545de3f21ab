"""Plain value types shared by the core and the shell."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

DedupKind = Literal["new", "exact", "near"]


@dataclass(frozen=True, slots=True)
class Article:
    """One news item, normalised. ``published`` is timezone-aware UTC."""

    id: str
    url: str
    canonical_url: str
    source: str
    title: str
    published: datetime
    language: str
    text: str
    guid: str = ""
    # True when ``text`` is only the feed's teaser, so the shell may fetch the page.
    teaser_only: bool = False


@dataclass(frozen=True, slots=True)
class DedupDecision:
    """Why an article was accepted or suppressed."""

    kind: DedupKind
    duplicate_of: str | None = None
    # Which signal matched: "guid", "url", "content", "minhash".
    reason: str = ""
    similarity: float = 1.0


@dataclass(frozen=True, slots=True)
class FactOut:
    """A fact as it leaves the pipeline (replay contract and renderers)."""

    type: str
    text: str
    sentence: str


@dataclass(slots=True)
class DigestEntry:
    """One article's (or story update's) contribution to a digest."""

    article_id: str
    title: str
    source: str
    url: str
    status: str
    story_id: str | None
    language: str
    facts: list[FactOut] = field(default_factory=list)
    also_reported_by: list[str] = field(default_factory=list)
