"""Building digest entries and replay records from pipeline outcomes (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from digests.models import Article, DedupDecision, DigestEntry, FactOut, SourceRef

STATUSES = ("new_story", "update", "no_new_facts", "duplicate")


@dataclass(slots=True)
class Outcome:
    """What the pipeline decided for one input article."""

    article: Article
    status: str
    dedup: DedupDecision
    story_id: str | None = None
    new_facts: list[FactOut] = field(default_factory=list)
    entry: DigestEntry | None = None
    explain: dict[str, Any] = field(default_factory=dict)

    def replay_record(self, *, explain: bool = False) -> dict[str, Any]:
        """The replay JSON contract: one object per input article."""
        record: dict[str, Any] = {
            "id": self.article.id,
            "status": self.status,
            "duplicate_of": self.dedup.duplicate_of if self.status == "duplicate" else None,
            "story": self.story_id,
            "new_facts": [
                {"type": f.type, "text": f.text, "sentence": f.sentence} for f in self.new_facts
            ],
        }
        if explain:
            record["explain"] = self.explain
        return record


def source_of(article: Article) -> SourceRef:
    return SourceRef(name=article.source or article.canonical_url, url=article.url)


def rank_and_cap(facts: list[FactOut], cap: int) -> tuple[list[FactOut], int]:
    """The ``cap`` most important facts in their original order, and how many were left out."""
    if len(facts) <= cap:
        return facts, 0
    keep = sorted(range(len(facts)), key=lambda i: (-facts[i].importance, i))[:cap]
    return [facts[i] for i in sorted(keep)], len(facts) - cap


def make_entry(
    article: Article,
    status: str,
    story_id: str,
    facts: list[FactOut],
    *,
    title: str | None = None,
    cap: int = 8,
    also_reported_by: list[SourceRef] | None = None,
    article_count: int = 1,
) -> DigestEntry:
    kept, omitted = rank_and_cap(facts, cap)
    return DigestEntry(
        story_id=story_id,
        title=title or article.title,
        status=status,
        language=article.language,
        facts=kept,
        sources=[source_of(article)],
        also_reported_by=list(also_reported_by or []),
        article_count=article_count,
        omitted_facts=omitted,
    )
