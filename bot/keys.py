"""Every Redis key digestbot uses, built in one place.

All keys start with the configured prefix ``P`` (default ``digestbot``). Keys
that a single Lua script or MULTI touches together share a hash tag (the part
in braces), so the same code runs on Redis Cluster.

Dedup core (hash tag ``{P:dd}``; E = epoch number, S = shard number):

- ``P:{P:dd}:x:E:S`` hash: exact digest (8 B: guid/url/content) → article key (8 B)
- ``P:{P:dd}:b:E:S`` hash: LSH band value (8 B) → article keys (8 B each, ≤ 4)
- ``P:{P:dd}:r:E:S`` hash: article key → record (signature, id, lead) or duplicate note

Dedup keys are grouped by epoch (a third of the TTL) and expire together at
the end of their epoch plus the TTL, so memory stays bounded without a TTL per
entry; many small hashes keep Redis's compact listpack encoding.

Feeds (hash tag ``{P:feeds}``):

``P:{P:feeds}:state:<feed digest>`` hash: url, etag, last_modified, failures, next_poll,
last_error, deactivated, last_ok, moved_to (the alias of a permanently redirected feed).
``P:{P:feeds}:added`` hash: feed url → JSON of feeds added at run time (CLI).

Stories and facts (hash tag per story ``{P:s:<id>}``):

``P:{P:s:<id>}:meta`` hash (profile JSON, pending "also reported by" notes),
``P:{P:s:<id>}:facts`` list of fact JSON (the story's fact memory),
``P:stories:terms:<term>`` sorted set (story id → last update; the inverted index),
``P:a2s:<article digest>`` string (the story an article joined), ``P:stories:seq`` counter.
All expire after the story inactivity window.

Subscriptions and delivery: ``P:subs`` hash (target → subscription JSON). The
outbox, schedule and delivery keys are listed with their builders below.
"""

from __future__ import annotations

import hashlib


class Keys:
    """The key builder. One instance per prefix; methods return ``str`` keys."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.dedup_base = f"{prefix}:{{{prefix}:dd}}"
        self.feeds_base = f"{prefix}:{{{prefix}:feeds}}"

    # dedup ---------------------------------------------------------------
    def dedup_route(self) -> str:
        """A key in the dedup hash slot, used only to route scripts on a cluster."""
        return f"{self.dedup_base}:route"

    def dedup_exact(self, epoch: int, shard: int) -> str:
        return f"{self.dedup_base}:x:{epoch}:{shard}"

    def dedup_bands(self, epoch: int, shard: int) -> str:
        return f"{self.dedup_base}:b:{epoch}:{shard}"

    def dedup_records(self, epoch: int, shard: int) -> str:
        return f"{self.dedup_base}:r:{epoch}:{shard}"

    def dedup_pattern(self) -> str:
        return f"{self.dedup_base}:*"

    # feeds ---------------------------------------------------------------
    def feed_state(self, url: str) -> str:
        digest = hashlib.blake2b(url.encode(), digest_size=10).hexdigest()
        return f"{self.feeds_base}:state:{digest}"

    def feeds_added(self) -> str:
        return f"{self.feeds_base}:added"

    # stories -------------------------------------------------------------
    def story_meta(self, story_id: str) -> str:
        return f"{self.prefix}:{{{self.prefix}:s:{story_id}}}:meta"

    def story_facts(self, story_id: str) -> str:
        return f"{self.prefix}:{{{self.prefix}:s:{story_id}}}:facts"

    def story_term(self, term: str) -> str:
        return f"{self.prefix}:stories:terms:{term}"

    def article_story(self, article_id: str) -> str:
        digest = hashlib.blake2b(article_id.encode(), digest_size=8).hexdigest()
        return f"{self.prefix}:a2s:{digest}"

    def story_seq(self) -> str:
        return f"{self.prefix}:stories:seq"

    # subscriptions and delivery ----------------------------------------------
    def subscriptions(self) -> str:
        return f"{self.prefix}:subs"

    def all_pattern(self) -> str:
        return f"{self.prefix}:*"
