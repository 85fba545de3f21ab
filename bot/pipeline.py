"""The per-article pipeline: dedup claim, story assignment, fact novelty, digest entry.

The decisions are the pure functions of ``digests``; this module only loads
and saves the state they need (dedup index, story profiles, fact memory).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.config import DigestConfig, StoryConfig
from bot.dedup_store import DedupStore
from bot.outbox import entry_from_dict, entry_to_dict
from bot.source_lines import SourceLines
from bot.story_store import StoryStore
from digests.digest import Outcome, make_entry, source_of
from digests.facts import Fact, extract_facts
from digests.models import Article, DedupDecision, FactOut, SourceRef
from digests.novelty import new_facts
from digests.stories import (
    ArticleProfile,
    article_profile,
    choose_story,
    merge,
    new_story,
)

# Articles claimed per dedup round trip; bounded so one huge feed can't hold a cycle's
# Redis connection for long or delay the first digests of the cycle.
CLAIM_BATCH = 64


def fact_out(fact: Fact, source: SourceRef) -> FactOut:
    return FactOut(
        type=fact.type,
        text=fact.text,
        sentence=fact.sentence,
        sources=(source,),
        importance=fact.importance,
    )


class Pipeline:
    """Turns accepted articles into digest entries; suppressed ones into notes."""

    def __init__(
        self,
        dedup: DedupStore,
        stories: StoryStore,
        digest: DigestConfig,
        story: StoryConfig,
        source_lines: SourceLines | None = None,
    ) -> None:
        self.source_lines = source_lines
        self.dedup = dedup
        self.stories = stories
        self.digest = digest
        self.story = story

    async def _duplicate(self, article: Article, outcome: Outcome) -> Outcome:
        original = outcome.dedup.duplicate_of
        story_id = await self.stories.story_of(original) if original else None
        outcome.story_id = story_id
        if story_id and original != article.id:
            src = source_of(article)
            await self.stories.note_also_reported(
                story_id, {"name": src.name, "url": src.url}, article.id
            )
        return outcome

    async def process(self, article: Article, now: datetime) -> Outcome:
        decision = await self.dedup.claim(article, now)
        return await self._decided(article, decision, now)

    async def process_many(
        self, articles: Sequence[Article], now: datetime, redelivered: Sequence[bool] = ()
    ) -> list[Outcome]:
        """Process ``articles`` in order; their dedup claims share one round trip.

        ``redelivered[i]``: article i may have been processed before by a worker that
        died before it acknowledged it. Its claim then finds the article itself; its
        saved outcome is returned (so the caller fans it out again, which is idempotent),
        or, when the worker died before saving, the article is processed as new.
        """
        decisions = await self.dedup.claim_many(articles, now)
        again = list(redelivered) or [False] * len(articles)
        outcomes = []
        for article, decision, replay in zip(articles, decisions, again, strict=True):
            if replay and decision.kind == "exact" and decision.duplicate_of == article.id:
                saved = await self.stories.outcome_of(article.id)
                if saved is not None:
                    outcomes.append(_saved_outcome(article, decision, *saved))
                    continue
                # A save that failed half-way may have indexed a new story under an id
                # the story itself never got: the replay gives the story that id.
                prior = await self.stories.story_of(article.id)
                if prior is not None and await self.stories.has_story(prior):
                    prior = None
                outcomes.append(
                    await self._decided(article, DedupDecision(kind="new"), now, prior)
                )
                continue
            outcomes.append(await self._decided(article, decision, now))
        return outcomes

    async def _decided(
        self,
        article: Article,
        decision: DedupDecision,
        now: datetime,
        unwritten_story: str | None = None,
    ) -> Outcome:
        explain: dict[str, Any] = {
            "dedup": {
                "kind": decision.kind,
                "duplicate_of": decision.duplicate_of,
                "reason": decision.reason,
                "similarity": decision.similarity,
            }
        }
        outcome = Outcome(article, "duplicate", decision, explain=explain)
        if decision.kind != "new":
            return await self._duplicate(article, outcome)

        if self.source_lines is not None:
            article = await self.source_lines.clean(article, now)
        facts, rejected = extract_facts(article.text, article.language, title=article.title)
        profile = article_profile(article, facts)
        found = await self.stories.candidates(profile, article.published)
        chosen, ranked = choose_story(
            profile,
            found.stories,
            self.story.threshold,
            timedelta(hours=self.story.window_hours),
            df=found.df,
        )
        explain["story"] = {
            "joined": chosen.id if chosen else None,
            "candidates": [{"story": sid, **_score_dict(score)} for sid, score in ranked[:5]],
            "threshold": self.story.threshold,
        }
        source = source_of(article)
        if chosen is None:
            story_id = unwritten_story or found.new_id or await self.stories.next_id()
            story = new_story(profile, story_id, found.df)
            known: list[Fact] = []
            status = "new_story"
        else:
            story = merge(chosen, profile, source.name, found.df)
            known = await self.stories.facts(story.id)
            status = "update"

        verdicts = new_facts(facts, known)
        fresh = [f for f, match in verdicts if match is None]
        explain["sentences"] = _sentence_explain(verdicts, rejected)
        outcome.story_id = story.id
        outcome.new_facts = [fact_out(f, source) for f in fresh]

        if status == "update" and not fresh:
            outcome.status = "no_new_facts"
            # The note first: a crash between the two replays the article, which notes
            # nothing twice; the other way round the note would be lost.
            await self.stories.note_also_reported(
                story.id, {"name": source.name, "url": source.url}, article.id
            )
            await self.stories.save(
                story, fresh, [article.id], counted=profile, done=_outcome_record(outcome)
            )
            return outcome
        outcome.status = status
        # Only a story that existed before this article can have collected notes.
        notes = await self.stories.also_reported(story.id) if status == "update" else []
        also = [SourceRef(a["name"], a["url"]) for a in notes]
        outcome.entry = make_entry(
            article,
            status,
            story.id,
            outcome.new_facts,
            title=story.title,
            cap=self.digest.max_facts,
            also_reported_by=also,
            article_count=story.article_count,
        )
        await self.stories.save(
            story,
            fresh,
            [article.id],
            counted=profile,
            done=_outcome_record(outcome),
            clear_also=bool(notes),
        )
        return outcome


def _outcome_record(outcome: Outcome) -> str:
    return json.dumps(
        {
            "status": outcome.status,
            "new_facts": [dataclasses.asdict(f) for f in outcome.new_facts],
            "entry": entry_to_dict(outcome.entry) if outcome.entry is not None else None,
        },
        ensure_ascii=False,
    )


def _saved_outcome(
    article: Article, decision: DedupDecision, story_id: str, record: str
) -> Outcome:
    """The outcome a worker saved before it died, for the article it did not acknowledge."""
    data = json.loads(record)
    entry = entry_from_dict(data["entry"]) if data.get("entry") else None
    facts = entry_from_dict(
        {"story_id": "", "title": "", "status": "", "language": "", "facts": data["new_facts"]}
    ).facts
    return Outcome(
        article,
        data["status"],
        decision,
        story_id=story_id,
        new_facts=list(facts),
        entry=entry,
        explain={"replayed": True},
    )


def _score_dict(score: Any) -> dict[str, Any]:
    fields = getattr(score, "__dataclass_fields__", {})
    return {
        name: round(value, 3) if isinstance(value, float) else value
        for name in fields
        if isinstance(value := getattr(score, name), int | float | str)
    }


def _sentence_explain(
    verdicts: list[tuple[Fact, Any]], rejected: list[Any]
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for fact, match in verdicts:
        if match is None:
            out.append({"sentence": fact.sentence, "decision": "posted", "type": fact.type})
        else:
            out.append(
                {
                    "sentence": fact.sentence,
                    "decision": "known",
                    "type": fact.type,
                    "matched": match.known.sentence,
                    "score": round(float(match.score), 3),
                    "reason": match.reason,
                }
            )
    for item in rejected:
        out.append({"sentence": item.sentence, "decision": "not a fact", "reason": item.reason})
    return out


__all__ = ["CLAIM_BATCH", "ArticleProfile", "Pipeline", "fact_out"]
