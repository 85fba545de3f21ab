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
class SourceRef:
    """Where a fact or an article came from: outlet name and link."""

    name: str
    url: str


@dataclass(frozen=True, slots=True)
class FactOut:
    """A fact as it leaves the pipeline (replay contract and renderers)."""

    type: str
    text: str
    sentence: str
    sources: tuple[SourceRef, ...] = ()
    importance: float = 0.0


@dataclass(slots=True)
class DigestEntry:
    """One story update as a reader sees it: headline, marker, new facts, sources."""

    story_id: str
    title: str
    status: str  # "new_story" | "update"
    language: str
    facts: list[FactOut] = field(default_factory=list)
    sources: list[SourceRef] = field(default_factory=list)
    also_reported_by: list[SourceRef] = field(default_factory=list)
    article_count: int = 1
    omitted_facts: int = 0
