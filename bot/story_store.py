"""Stories, their fact memory and the term counts of story assignment, in Redis.

Candidate stories for an article come only from the index keys of that
article (its strongest terms, actors and figures): one sorted set per key,
scored by the story's last update, so retrieval never scans all stories and
old stories fall out of the window by score. Everything of one story shares a
hash tag.

Term rarity: document frequencies are counted per time bucket of one story
window (``P:stories:df:<n>``: term → articles, ``*`` → all articles), keyed
by the articles' publication time so that a replay counts like live traffic.
A lookup reads the article's bucket and the one before and weighs the older
one by the share of the window it still covers (a sliding window of one story
window, as rate limiters do it), so counts decay without a per-term TTL and
memory stays at two buckets of vocabulary. The counts arrive in the same round
trip as the candidate ids.

Round trips per article in the pipeline (``bot.pipeline``): one for candidate ids,
counts, the candidates' profiles and the leading candidate's fact memory, which also
carries the previous article's save (on a cluster the profiles and the memory take a
second one); one more for the memory when the article joins another candidate, and
one for a new story's id when it had candidates but joined none.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import redis.asyncio as aioredis

from bot.command_batch import Command, CommandBatch, script_call
from bot.keys import Keys
from digests.facts import Fact, fact_from_dict, fact_to_dict
from digests.stories import (
    ArticleProfile,
    DocFreq,
    StoryProfile,
    df_keys,
    index_keys,
    profile_from_dict,
    profile_to_dict,
    query_keys,
)

# Same-event stories share several of the article's strongest keys and rank first by
# hits (on the sample corpus every joined story ranked first, on 10kGNAD all but one in
# the first three); profiles are JSON-decoded per candidate, so few are fetched.
MAX_CANDIDATES = 8
# ... and at least two of them: a story met under one key only shares a single term, actor
# or figure with the article (every joined story of both corpora shared two or more). An
# article with very few keys (a teaser) is looked up with one.
MIN_HITS = 2
FEW_KEYS = 6
# A key shared by more stories than this in the window (a country, "police") is not
# what finds the story; its most recent stories are enough to count hits.
PER_KEY = 20
# Facts of a story that novelty compares with: the most recent ones. A story that has
# collected more has long been reported; what its last updates said is what a repeat
# repeats. Bounds the cost of an update however long a story runs.
MEMORY_FACTS = 200
TOTAL = "*"  # the field counting the articles of a df bucket (literal in _SAVE too)

# Candidate ids and document frequencies in one call. Counting hits here rather than in
# Python: the reply is a few ids and two strings instead of hundreds of ids and counts.
# With no candidate the article can only start a story: its id is taken from the
# sequence here too, which saves the round trip of an INCR for most new stories.
# On a single server the candidates' profiles and the leading candidate's fact memory come
# along (their keys are built here from the parts the client sends, which a cluster would
# refuse: there they take a round trip of their own).
# KEYS: story sequence, df bucket, previous df bucket, index keys (strongest first).
# ARGV: oldest score, ids per key, max candidates, min hits, story key head ('' for no
# profiles), meta key tail, facts key tail, memory size, df fields...
# Reply: {candidate ids, counts in the bucket, counts in the previous one (comma-joined),
# a new story number or 0, profiles ('' where none), the lead's facts, the lead's notes}.
_LOOKUP = """
local hits, key, score, num, order = {}, {}, {}, {}, {}
local per = tonumber(ARGV[2])
for i = 4, #KEYS do
  local found = redis.call(
    'ZREVRANGEBYSCORE', KEYS[i], '+inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, per)
  for j = 1, #found, 2 do
    local id = found[j]
    local h = hits[id]
    if h then
      hits[id] = h + 1
    else
      hits[id] = 1
      key[id] = i
      score[id] = found[j + 1]
      order[#order + 1] = id
    end
  end
end
local need = tonumber(ARGV[4])
local chosen = {}
for _, id in ipairs(order) do
  if hits[id] >= need then
    -- only the chosen few are sorted: their numbers are read here, not for every id met
    chosen[#chosen + 1] = id
    score[id] = tonumber(score[id])
    num[id] = tonumber(string.sub(id, 2)) or 0
  end
end
-- Most shared keys first, then the strongest key, the latest update, the newest story.
-- Never the ids' spelling: ids differ between runs (a replay after a crash takes new
-- ones), and the choice among equals must not.
table.sort(chosen, function(a, b)
  if hits[a] ~= hits[b] then return hits[a] > hits[b] end
  if key[a] ~= key[b] then return key[a] < key[b] end
  if score[a] ~= score[b] then return score[a] > score[b] end
  return num[a] > num[b]
end)
local top = {}
for i = 1, math.min(#chosen, tonumber(ARGV[3])) do top[i] = chosen[i] end
local fields = {}
for j = 9, #ARGV do fields[#fields + 1] = ARGV[j] end
local function joined(key)
  local values = redis.call('HMGET', key, unpack(fields))
  for k = 1, #values do values[k] = values[k] or '' end
  return table.concat(values, ',')
end
local number = 0
if #top == 0 then number = redis.call('INCR', KEYS[1]) end
local profiles, facts, also = {}, {}, ''
local head = ARGV[5]
if head ~= '' and #top > 0 then
  for i, id in ipairs(top) do
    profiles[i] = redis.call('HGET', head .. id .. ARGV[6], 'profile') or ''
  end
  facts = redis.call('LRANGE', head .. top[1] .. ARGV[7], -tonumber(ARGV[8]), -1)
  also = redis.call('HGET', head .. top[1] .. ARGV[6], 'also') or ''
end
return {top, joined(KEYS[2]), joined(KEYS[3]), number, profiles, facts, also}
"""

# A story's index entries and an article's counts in one call.
# An article is counted once per bucket (its marker field), so saving it again after a
# crash leaves the counts as they were.
# KEYS: df bucket, index keys. ARGV: story id, score, prune below, index TTL, df TTL,
# article marker, df fields (none: count nothing).
_SAVE = """
for i = 2, #KEYS do
  redis.call('ZADD', KEYS[i], ARGV[2], ARGV[1])
  -- stories that left the window can never be candidates again: drop them here
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', ARGV[3])
  redis.call('EXPIRE', KEYS[i], ARGV[4])
end
if #ARGV > 6 and redis.call('HSETNX', KEYS[1], ARGV[6], 1) == 1 then
  for j = 7, #ARGV do redis.call('HINCRBY', KEYS[1], ARGV[j], 1) end
  redis.call('HINCRBY', KEYS[1], '*', 1)
  redis.call('EXPIRE', KEYS[1], ARGV[5])
end
"""


# A story's own state in one atomic step (all keys share the story's hash tag): the
# profile, the new facts and the article's outcome record, so that a crash leaves either
# all of them or none, and a replayed article finds its outcome instead of finding its
# own facts "already known".
# The "also reported by" notes an update entry took are cleared here too: a crash can
# neither lose them nor show them twice.
# KEYS: meta, facts, done. ARGV: ttl, memory, done ttl, article id, outcome record,
# clear notes ('1' or ''), then field/value pairs of meta up to the marker '--', then
# fact JSONs.
_WRITE = """
local ttl, memory, done_ttl = ARGV[1], tonumber(ARGV[2]), ARGV[3]
if ARGV[6] == '1' then redis.call('HDEL', KEYS[1], 'also') end
local i = 7
while ARGV[i] ~= '--' do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  i = i + 2
end
redis.call('EXPIRE', KEYS[1], ttl)
if i < #ARGV then
  redis.call('RPUSH', KEYS[2], unpack(ARGV, i + 1, #ARGV))
  redis.call('LTRIM', KEYS[2], -memory, -1)
end
redis.call('EXPIRE', KEYS[2], ttl)
if ARGV[5] ~= '' then
  redis.call('HSET', KEYS[3], ARGV[4], ARGV[5])
  redis.call('EXPIRE', KEYS[3], done_ttl)
end
"""

# An "also reported by" note, once per article (its marker field in the story's meta), at
# most one per source name, the 20 latest. KEYS: meta. ARGV: marker, name, source JSON.
_NOTE = """
if redis.call('HSETNX', KEYS[1], ARGV[1], 1) == 0 then return 0 end
local raw = redis.call('HGET', KEYS[1], 'also')
local also = {}
if raw then also = cjson.decode(raw) end
for _, a in ipairs(also) do
  if a['name'] == ARGV[2] then return 1 end
end
table.insert(also, cjson.decode(ARGV[3]))
while #also > 20 do table.remove(also, 1) end
redis.call('HSET', KEYS[1], 'also', cjson.encode(also))
return 1
"""

def encode_fact(fact: Fact) -> bytes:
    """A fact as a story's memory keeps it (JSON, UTF-8)."""
    return orjson.dumps(fact_to_dict(fact))


# EVALSHA: sending a script's body with every call costs a fifth of a millisecond more.
_SHA = {
    body: hashlib.sha1(body.encode()).hexdigest() for body in (_LOOKUP, _SAVE, _WRITE, _NOTE)
}
# How long an article's outcome record is kept for a replay after a crash: far longer
# than any restart or lease takes, short enough to stay small.
DONE_TTL = 86400


@dataclass(frozen=True, slots=True)
class Candidates:
    """Stories that may continue an article, and the term counts to score them with."""

    stories: list[StoryProfile]
    df: DocFreq
    new_id: str | None = None  # allocated when there is no candidate (see _LOOKUP)


@dataclass(frozen=True, slots=True)
class Lookup:
    """A candidate lookup as a command, and what its reply needs to be read."""

    command: Command
    counted: tuple[str, ...]
    carry: float  # weight of the previous df bucket
    fetches: bool  # the reply brings the candidates' profiles and the lead's memory

    def read(self, reply: Any) -> tuple[list[str], DocFreq, str | None]:
        """(candidate ids, document frequencies, a new story id when none)."""
        ids, current, previous, number = reply[:4]
        df = _doc_freq(self.counted, current, previous, self.carry)
        story_ids = [_text(sid) for sid in ids]
        return story_ids, df, None if story_ids else f"s{number}"

    def fetched(self, reply: Any) -> tuple[list[StoryProfile], Memory] | None:
        """The candidates' profiles and the leading one's memory, when the reply has them."""
        if not self.fetches or not reply[0]:
            return None
        return StoryStore.read_profiles(reply[4]), Memory(list(reply[5]), reply[6] or None)


@dataclass(slots=True)
class Memory:
    """A story's fact memory and pending "also reported by" notes, decoded on demand
    (a prefetch for a story the article may not join costs no JSON decoding)."""

    raw_facts: list[bytes]
    raw_also: bytes | str | None

    def facts(self) -> list[Fact]:
        return [fact_from_dict(orjson.loads(r)) for r in self.raw_facts]

    def also(self) -> list[dict[str, str]]:
        result: list[dict[str, str]] = json.loads(self.raw_also) if self.raw_also else []
        return result


class StoryStore:
    """Reads and writes story profiles, fact memory, term counts and article→story links.

    Every operation exists as commands (``*_command(s)``), so that the pipeline can send
    one article's writes with the next article's reads, and as a coroutine that runs them.
    """

    def __init__(
        self,
        client: aioredis.Redis,
        keys: Keys,
        *,
        window_hours: float,
        ttl_days: float,
        memory_facts: int = MEMORY_FACTS,
    ) -> None:
        self.client = client
        self.keys = keys
        self.window = window_hours * 3600.0
        self.ttl = int(ttl_days * 86400)
        self.memory_facts = memory_facts
        self.batch = CommandBatch(client, {sha: body for body, sha in _SHA.items()})
        # A cluster refuses a script keys it was not told of (see _LOOKUP).
        self.fetch_in_lookup = not self.batch.in_turn

    def _bucket(self, published: datetime) -> tuple[int, float]:
        """(bucket number, share of the bucket elapsed) for a publication time."""
        position = published.timestamp() / self.window
        bucket = int(position // 1)
        return bucket, position - bucket

    def lookup(self, profile: ArticleProfile, published: datetime) -> Lookup:
        """Stories indexed under the article's query keys and updated within the window,
        with the recent document frequencies of the article's terms."""
        terms = query_keys(profile)
        counted = tuple(df_keys(profile))
        bucket, elapsed = self._bucket(published)
        need = MIN_HITS if len(terms) >= FEW_KEYS else 1
        head, meta_tail, facts_tail = "", "", ""
        if self.fetch_in_lookup:
            head, _, meta_tail = self.keys.story_meta("\0").partition("\0")
            facts_tail = self.keys.story_facts("\0").partition("\0")[2]
        command = script_call(
            _SHA[_LOOKUP],
            [
                self.keys.story_seq(),
                self.keys.story_df(bucket),
                self.keys.story_df(bucket - 1),
                *(self.keys.story_term(t) for t in terms),
            ],
            published.timestamp() - self.window,
            PER_KEY,
            MAX_CANDIDATES,
            need,
            head,
            meta_tail,
            facts_tail,
            self.memory_facts,
            TOTAL,
            *counted,
        )
        return Lookup(command, counted, 1.0 - elapsed, self.fetch_in_lookup)

    def profile_commands(self, story_ids: Sequence[str]) -> list[Command]:
        return [("HGET", self.keys.story_meta(sid), "profile") for sid in story_ids]

    @staticmethod
    def read_profiles(replies: Sequence[Any]) -> list[StoryProfile]:
        return [profile_from_dict(orjson.loads(raw)) for raw in replies if raw]

    def memory_commands(self, story_id: str) -> list[Command]:
        """The story's most recent ``memory_facts`` facts (oldest first) and its notes."""
        return [
            ("LRANGE", self.keys.story_facts(story_id), -self.memory_facts, -1),
            ("HGET", self.keys.story_meta(story_id), "also"),
        ]

    @staticmethod
    def read_memory(replies: Sequence[Any]) -> Memory:
        return Memory(list(replies[0]), replies[1])

    async def candidates(self, profile: ArticleProfile, published: datetime) -> Candidates:
        lookup = self.lookup(profile, published)
        (reply,) = await self.batch.run([lookup.command])
        ids, df, new_id = lookup.read(reply)
        if not ids:
            return Candidates([], df, new_id)
        fetched = lookup.fetched(reply)
        if fetched is not None:
            return Candidates(fetched[0], df)
        stories = self.read_profiles(await self.batch.run(self.profile_commands(ids)))
        return Candidates(stories, df)

    async def next_id(self) -> str:
        number = await self.client.incr(self.keys.story_seq())
        return f"s{number}"

    async def facts(self, story_id: str) -> list[Fact]:
        """The story's most recent ``memory_facts`` facts, oldest first."""
        return self.read_memory(await self.batch.run(self.memory_commands(story_id))).facts()

    def story_of_command(self, article_id: str) -> Command:
        return ("GET", self.keys.article_story(article_id))

    @staticmethod
    def read_story_of(raw: Any) -> str | None:
        return _text(raw) if raw else None

    async def story_of(self, article_id: str) -> str | None:
        (raw,) = await self.batch.run([self.story_of_command(article_id)])
        return self.read_story_of(raw)

    def note_command(self, story_id: str, source: dict[str, str], article_id: str) -> Command:
        """Note that ``article_id`` from ``source`` reported the story too, once per article:
        an article replayed after a crash must not bring back a note an entry already showed."""
        marker = "n:" + hashlib.blake2b(article_id.encode(), digest_size=8).hexdigest()
        return script_call(
            _SHA[_NOTE],
            [self.keys.story_meta(story_id)],
            marker,
            source["name"],
            json.dumps(source),
        )

    async def note_also_reported(
        self, story_id: str, source: dict[str, str], article_id: str
    ) -> None:
        await self.batch.run([self.note_command(story_id, source, article_id)])

    async def also_reported(self, story_id: str) -> list[dict[str, str]]:
        """The "also reported by" notes gathered since the story's last digest entry
        (``save(..., clear_also=True)`` clears them with the entry that shows them)."""
        return self.read_memory(await self.batch.run(self.memory_commands(story_id))).also()

    def save_commands(
        self,
        story: StoryProfile,
        new_facts: Sequence[Fact],
        article_ids: Sequence[str],
        extra: dict[str, str] | None = None,
        counted: ArticleProfile | None = None,
        done: str | bytes | None = None,
        clear_also: bool = False,
        encoded: Sequence[bytes] | None = None,
    ) -> list[Command]:
        """Write the story, its new facts, its index entries and the article links;
        ``counted``: the article whose terms enter the document frequencies; ``done``: the
        outcome record of ``article_ids[0]``, saved atomically with the story and its facts;
        ``clear_also``: the pending "also reported by" notes went into this article's entry;
        ``encoded``: ``new_facts`` already in their stored form (:func:`encode_fact`).

        In this order, each step atomic: the links, the index, then the story. A story id in
        the index without its story (the last step failed) is known to its article, whose
        replay reuses the id; the outcome record marks the article done, so nothing the
        story needs may come after it (a store at maxmemory refusing the index would
        otherwise leave a story no later article can find). Commands after a failed one
        still run in a shared round trip, but a refusal for memory holds for the rest of
        it: the story step fails too, as it must.
        """
        score = story.last_seen.timestamp()
        index = [self.keys.story_term(term) for term in index_keys(story)]
        bucket, _ = self._bucket(counted.published if counted else story.last_seen)
        commands: list[Command] = [
            ("SET", self.keys.article_story(article_id), story.id, "EX", self.ttl)
            for article_id in article_ids
        ]
        commands.append(
            script_call(
                _SHA[_SAVE],
                [self.keys.story_df(bucket), *index],
                story.id,
                score,
                score - 4 * self.window,
                self.ttl,
                # A bucket is read until one window after it ends: two after its last count.
                int(2 * self.window),
                "a:" + hashlib.blake2b(counted.article_id.encode(), digest_size=8).hexdigest()
                if counted
                else "",
                *(df_keys(counted) if counted else ()),
            )
        )
        fields: dict[str, str | bytes] = {"profile": orjson.dumps(profile_to_dict(story))}
        fields.update(extra or {})
        commands.append(
            script_call(
                _SHA[_WRITE],
                [
                    self.keys.story_meta(story.id),
                    self.keys.story_facts(story.id),
                    self.keys.story_done(story.id),
                ],
                self.ttl,
                self.memory_facts,
                DONE_TTL,
                article_ids[0] if article_ids and done is not None else "",
                done or "",
                "1" if clear_also else "",
                *(x for pair in fields.items() for x in pair),
                "--",
                *(encoded if encoded is not None else map(encode_fact, new_facts)),
            )
        )
        return commands

    async def save(
        self,
        story: StoryProfile,
        new_facts: Sequence[Fact],
        article_ids: Sequence[str],
        extra: dict[str, str] | None = None,
        counted: ArticleProfile | None = None,
        done: str | bytes | None = None,
        clear_also: bool = False,
    ) -> None:
        """Run :meth:`save_commands` one after another, each awaited."""
        commands = self.save_commands(
            story, new_facts, article_ids, extra, counted, done, clear_also
        )
        links = [c for c in commands if c[0] == "SET"]
        await self.batch.run(links)
        for command in commands[len(links) :]:
            await self.batch.run([command])

    async def has_story(self, story_id: str) -> bool:
        """Whether the story was written (not only indexed by a save that failed half-way)."""
        return bool(await self.client.exists(self.keys.story_meta(story_id)))

    async def outcome_of(self, article_id: str) -> tuple[str, str] | None:
        """(story id, outcome record) of an article whose processing was saved, or None."""
        story_id = await self.story_of(article_id)
        if story_id is None:
            return None
        raw = await self.client.hget(self.keys.story_done(story_id), article_id)
        return (story_id, _text(raw)) if raw else None


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _doc_freq(
    keys: Sequence[str], current: bytes | str, previous: bytes | str, carry: float
) -> DocFreq:
    """Counts of the current bucket plus ``carry`` times those of the one before
    (comma-joined, the total first, then one per key, empty for none)."""
    now = _text(current).split(",")
    before = _text(previous).split(",")
    total = float(now[0] or 0) + carry * float(before[0] or 0)
    counts = {}
    for key, a, b in zip(keys, now[1:], before[1:], strict=True):
        if a or b:
            counts[key] = float(a or 0) + carry * float(b or 0)
    return DocFreq(counts, total)
