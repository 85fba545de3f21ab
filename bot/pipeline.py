"""The per-article pipeline: dedup claim, then the story/fact brain, then a digest entry."""

from __future__ import annotations

from datetime import datetime

from bot.config import DigestConfig
from bot.dedup_store import DedupStore
from digests.digest import Outcome, make_entry, source_of
from digests.models import Article, FactOut
from digests.sentences import split_sentences


def lead_facts(article: Article, count: int) -> list[FactOut]:
    """The opening sentences of an article, posted as untyped facts."""
    source = source_of(article)
    return [
        FactOut(type="other", text=s.strip(), sentence=s, sources=(source,))
        for s in split_sentences(article.text, article.language)[:count]
        if s.strip()
    ]


class Pipeline:
    """Turns accepted articles into digest entries; suppressed ones into notes."""

    def __init__(self, dedup: DedupStore, digest: DigestConfig) -> None:
        self.dedup = dedup
        self.digest = digest

    async def process(self, article: Article, now: datetime) -> Outcome:
        decision = await self.dedup.claim(article, now)
        explain: dict[str, object] = {
            "dedup": {
                "kind": decision.kind,
                "duplicate_of": decision.duplicate_of,
                "reason": decision.reason,
                "similarity": decision.similarity,
            }
        }
        if decision.kind != "new":
            return Outcome(article, "duplicate", decision, explain=explain)
        story_id = f"s-{article.id}"
        facts = lead_facts(article, self.digest.lead_sentences)
        entry = make_entry(article, "new_story", story_id, facts, cap=self.digest.max_facts)
        return Outcome(article, "new_story", decision, story_id, facts, entry, explain)
