"""The per-article pipeline: dedup claim, story assignment, fact novelty, digest entry.

The decisions are the pure functions of ``digests``; this module only loads
and saves the state they need (dedup index, story profiles, fact memory).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson

from bot.command_batch import Command, CommandBatch
from bot.config import DigestConfig, StoryConfig
from bot.dedup_store import DedupStore
from bot.outbox import entry_from_dict, fact_from_dict, ref_from_dict, ref_to_dict
from bot.source_lines import SourceLines
from bot.story_store import Lookup, Memory, StoryStore, encode_fact
from digests.digest import Outcome, make_entry, source_of
from digests.facts import Fact, extract_facts
from digests.models import Article, DedupDecision, DigestEntry, FactOut, SourceRef
from digests.novelty import new_facts
from digests.stories import (
    ArticleProfile,
    StoryProfile,
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


@dataclass(slots=True, eq=False)
class Prepared:
    """One article of a batch on its way through the pipeline."""

    original: Article
    decision: DedupDecision
    saved: Outcome | None = None  # the outcome a worker saved before it died
    unwritten_story: str | None = None  # a story id indexed by a save that failed half-way
    article: Article | None = None  # cleaned of its source's recurring lines
    facts: list[Fact] = field(default_factory=list)
    rejected: list[Any] = field(default_factory=list)
    profile: ArticleProfile | None = None
    lookup: Lookup | None = None  # the story-index query, built before the story turn
    # Novelty if the article starts a story (it then has nothing to repeat but itself);
    # most articles do, and this part needs no story state, so it is done before the turn.
    alone: list[tuple[Fact, Any]] | None = None
    encoded: list[bytes] = field(default_factory=list)  # the facts as a story stores them


class _Session:
    """Writes of a batch's articles, sent with the next read rather than on their own.

    The server runs one connection's commands in order, so a read sent after the
    writes sees them as if every write had been awaited first; a crash loses at most
    the writes not yet sent, of articles not yet acknowledged, which are redelivered.
    """

    def __init__(self, batch: CommandBatch) -> None:
        self.batch = batch
        self.pending: list[Command] = []
        self.story_of: dict[str, str] = {}  # articles of this batch → their story

    def write(self, commands: Sequence[Command]) -> None:
        self.pending.extend(commands)

    async def read(self, commands: Sequence[Command]) -> list[Any]:
        sent = len(self.pending)
        replies = await self.batch.run([*self.pending, *commands])
        self.pending = []
        return replies[sent:]

    async def flush(self) -> None:
        if self.pending:
            commands, self.pending = self.pending, []
            await self.batch.run(commands)


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

    async def process(self, article: Article, now: datetime) -> Outcome:
        return (await self.process_many([article], now))[0]

    async def process_many(
        self, articles: Sequence[Article], now: datetime, redelivered: Sequence[bool] = ()
    ) -> list[Outcome]:
        """Process ``articles`` in order, with the decisions one-by-one processing makes.

        Their dedup claims share one round trip, their source-line counts another; the
        text work of all is done before the story work, and each article's writes travel
        with the next article's first read.

        ``redelivered[i]``: article i may have been processed before by a worker that
        died before it acknowledged it. Its claim then finds the article itself; its
        saved outcome is returned (so the caller fans it out again, which is idempotent),
        or, when the worker died before saving, the article is processed as new.
        """
        return await self.decide(await self.prepare(articles, now, redelivered))

    async def prepare(
        self, articles: Sequence[Article], now: datetime, redelivered: Sequence[bool] = ()
    ) -> list[Prepared]:
        """The part of :meth:`process_many` that needs no story state: dedup claims,
        source-line cleaning and the text work. Several workers can prepare at once;
        :meth:`decide` must then take turns."""
        decisions = await self.dedup.claim_many(articles, now)
        again = list(redelivered) or [False] * len(articles)
        plans = []
        for article, decision, replay in zip(articles, decisions, again, strict=True):
            plan = Prepared(article, decision)
            if replay and decision.kind == "exact" and decision.duplicate_of == article.id:
                await self._recall(plan)
            plans.append(plan)
        fresh = [p for p in plans if p.saved is None and p.decision.kind == "new"]
        cleaned = [p.original for p in fresh]
        if self.source_lines is not None and fresh:
            cleaned = await self.source_lines.clean_many(cleaned, now)
        for plan, article in zip(fresh, cleaned, strict=True):
            plan.article = article
            # The text work of a whole batch in one go, not in the gaps of the story
            # work's round trips: a task per round trip to fill them cost more than
            # the gaps (bench/pipeline.py, 2026-11-21).
            _analyse(plan)
            # Built here, out of the story turn that workers take one at a time.
            assert plan.profile is not None
            plan.lookup = self.stories.lookup(plan.profile, article.published)
            plan.alone = new_facts(plan.facts, [])
            plan.encoded = [encode_fact(f) for f in plan.facts]
            # Other tasks of the worker (sends, commands) run between two articles.
            await asyncio.sleep(0)
        return plans

    async def decide(self, plans: Sequence[Prepared]) -> list[Outcome]:
        """Stories, novelty and digest entries of prepared articles, in order."""
        session = _Session(self.stories.batch)
        outcomes = []
        for plan in plans:
            if plan.saved is not None:
                outcomes.append(plan.saved)
            elif plan.decision.kind != "new":
                outcomes.append(await self._duplicate(plan, session))
            else:
                outcomes.append(await self._new(plan, session))
        await session.flush()
        return outcomes

    async def _recall(self, plan: Prepared) -> None:
        """What became of a redelivered article that its claim finds already claimed."""
        article = plan.original
        saved = await self.stories.outcome_of(article.id)
        if saved is not None:
            plan.saved = _saved_outcome(article, plan.decision, *saved)
            return
        # A save that failed half-way may have indexed a new story under an id the story
        # itself never got: the replay gives the story that id.
        prior = await self.stories.story_of(article.id)
        if prior is not None and await self.stories.has_story(prior):
            prior = None
        plan.decision = DedupDecision(kind="new")
        plan.unwritten_story = prior

    async def _duplicate(self, plan: Prepared, session: _Session) -> Outcome:
        article, decision = plan.original, plan.decision
        outcome = Outcome(article, "duplicate", decision, explain=_dedup_explain(decision))
        original = decision.duplicate_of
        story_id = None
        if original:
            story_id = session.story_of.get(original)
            if story_id is None:
                (raw,) = await session.read([self.stories.story_of_command(original)])
                story_id = self.stories.read_story_of(raw)
        outcome.story_id = story_id
        if story_id and original != article.id:
            src = source_of(article)
            session.write(
                [
                    self.stories.note_command(
                        story_id, {"name": src.name, "url": src.url}, article.id
                    )
                ]
            )
        return outcome

    async def _new(self, plan: Prepared, session: _Session) -> Outcome:
        article, profile, facts, lookup = plan.article, plan.profile, plan.facts, plan.lookup
        assert article is not None and profile is not None and lookup is not None
        explain = _dedup_explain(plan.decision)
        outcome = Outcome(plan.original, "duplicate", plan.decision, explain=explain)

        (reply,) = await session.read([lookup.command])
        ids, df, new_id = lookup.read(reply)
        found: list[StoryProfile] = []
        lead: Memory | None = None
        fetched = lookup.fetched(reply)
        if fetched is not None:
            found, lead = fetched
        elif ids:
            # The leading candidate's memory comes along: it is the story joined nearly
            # always, and a memory fetched for nothing is never decoded.
            replies = await session.read(
                [*self.stories.profile_commands(ids), *self.stories.memory_commands(ids[0])]
            )
            found = self.stories.read_profiles(replies[: len(ids)])
            lead = self.stories.read_memory(replies[len(ids) :])
        chosen, ranked = choose_story(
            profile,
            found,
            self.story.threshold,
            timedelta(hours=self.story.window_hours),
            df=df,
        )
        explain["story"] = {
            "joined": chosen.id if chosen else None,
            "candidates": [{"story": sid, **_score_dict(score)} for sid, score in ranked[:5]],
            "threshold": self.story.threshold,
        }
        source = source_of(article)
        memory: Memory | None = None
        if chosen is None:
            story_id = plan.unwritten_story or new_id
            if story_id is None:
                (number,) = await session.read([("INCR", self.stories.keys.story_seq())])
                story_id = f"s{number}"
            story = new_story(profile, story_id, df)
            known: list[Fact] = []
            status = "new_story"
        else:
            story = merge(chosen, profile, source.name, df)
            if lead is not None and chosen.id == ids[0]:
                memory = lead
            else:
                memory = self.stories.read_memory(
                    await session.read(self.stories.memory_commands(chosen.id))
                )
            known = memory.facts()
            status = "update"

        if chosen is None and plan.alone is not None:
            verdicts = plan.alone
        else:
            verdicts = new_facts(facts, known)
        fresh = [f for f, match in verdicts if match is None]
        encoded = [plan.encoded[i] for i, (_, match) in enumerate(verdicts) if match is None]
        explain["sentences"] = _sentence_explain(verdicts, plan.rejected)
        outcome.story_id = story.id
        outcome.new_facts = [fact_out(f, source) for f in fresh]
        session.story_of[plan.original.id] = story.id
        note = {"name": source.name, "url": source.url}

        if status == "update" and not fresh:
            outcome.status = "no_new_facts"
            # The note first: a crash between the two replays the article, which notes
            # nothing twice; the other way round the note would be lost.
            session.write([self.stories.note_command(story.id, note, article.id)])
            session.write(
                self.stories.save_commands(
                    story,
                    fresh,
                    [article.id],
                    counted=profile,
                    done=_outcome_record(outcome),
                    encoded=encoded,
                )
            )
            return outcome
        outcome.status = status
        # Only a story that existed before this article can have collected notes.
        notes = memory.also() if memory is not None else []
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
        session.write(
            self.stories.save_commands(
                story,
                fresh,
                [article.id],
                counted=profile,
                done=_outcome_record(outcome),
                clear_also=bool(notes),
                encoded=encoded,
            )
        )
        return outcome


def _analyse(plan: Prepared) -> None:
    """An article's facts and story profile: the pipeline's text work, no I/O."""
    article = plan.article
    assert article is not None
    plan.facts, plan.rejected = extract_facts(article.text, article.language, title=article.title)
    plan.profile = article_profile(article, plan.facts)


def _dedup_explain(decision: DedupDecision) -> dict[str, Any]:
    return {
        "dedup": {
            "kind": decision.kind,
            "duplicate_of": decision.duplicate_of,
            "reason": decision.reason,
            "similarity": decision.similarity,
        }
    }


def _outcome_record(outcome: Outcome) -> bytes:
    """The outcome as a replay after a crash needs it, saved with the story.

    Compact: written for every article, it was the largest part of what a save sends
    (~11 kB per 10kGNAD article with every fact twice, in the list and in the entry,
    each with its source and often its text equal to its sentence). The entry names its
    facts by position, a fact's source is written once for all, its text only where it
    differs from its sentence.
    """
    facts = outcome.new_facts
    shared = facts[0].sources if facts else ()
    # the entry's facts are some of these very objects (digests.digest.rank_and_cap)
    position = {id(f): i for i, f in enumerate(facts)}
    entry = outcome.entry
    entry_record = None
    if entry is not None:
        entry_record = {
            "story_id": entry.story_id,
            "title": entry.title,
            "status": entry.status,
            "language": entry.language,
            "fact_ids": [position[id(f)] for f in entry.facts],
            "sources": [ref_to_dict(s) for s in entry.sources],
            "also_reported_by": [ref_to_dict(s) for s in entry.also_reported_by],
            "article_count": entry.article_count,
            "omitted_facts": entry.omitted_facts,
        }
    return orjson.dumps(
        {
            "status": outcome.status,
            "sources": [ref_to_dict(s) for s in shared],
            "facts": [
                [
                    f.type,
                    f.sentence,
                    None if f.text == f.sentence else f.text,
                    f.importance,
                    None if f.sources == shared else [ref_to_dict(s) for s in f.sources],
                ]
                for f in facts
            ],
            "entry": entry_record,
        }
    )


def _saved_outcome(
    article: Article, decision: DedupDecision, story_id: str, record: str | bytes
) -> Outcome:
    """The outcome a worker saved before it died, for the article it did not acknowledge."""
    status, facts, entry = read_record(record)
    return Outcome(
        article,
        status,
        decision,
        story_id=story_id,
        new_facts=facts,
        entry=entry,
        explain={"replayed": True},
    )


def read_record(record: str | bytes) -> tuple[str, list[FactOut], DigestEntry | None]:
    """(status, new facts, digest entry) of an outcome record (:func:`_outcome_record`),
    also of the form earlier releases saved."""
    data = orjson.loads(record)
    if "facts" not in data:  # every fact in full, in the list and again in the entry
        entry = entry_from_dict(data["entry"]) if data.get("entry") else None
        return data["status"], [fact_from_dict(f) for f in data["new_facts"]], entry
    shared = tuple(ref_from_dict(s) for s in data["sources"])
    facts = [
        FactOut(
            type=kind,
            text=sentence if text is None else text,
            sentence=sentence,
            sources=shared if own is None else tuple(ref_from_dict(s) for s in own),
            importance=importance,
        )
        for kind, sentence, text, importance, own in data["facts"]
    ]
    entry = None
    if (saved := data.get("entry")) is not None:
        entry = entry_from_dict({**saved, "facts": []})
        entry.facts = [facts[i] for i in saved["fact_ids"]]
    return data["status"], facts, entry


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


__all__ = ["CLAIM_BATCH", "ArticleProfile", "Pipeline", "Prepared", "fact_out"]
