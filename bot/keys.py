"""Every Redis key digestbot uses, built in one place.

All keys start with the configured prefix ``P`` (default ``digestbot``). Keys
that a single Lua script or MULTI touches together share a hash tag (the part
in braces), so the same code runs on Redis Cluster.

Dedup core (hash tag ``{P:dd}``; E = epoch number, S = shard number):

- ``P:{P:dd}:x:E:S`` hash: exact digest (8 B: guid/url/content) → article key (8 B)
- ``P:{P:dd}:b:E:S`` hash: LSH band value (8 B) → article keys (8 B each, ≤ 4)
- ``P:{P:dd}:r:E:S`` hash: article key → record (signature, id, lead) or duplicate note
- ``P:{P:dd}:e:E`` string: marks epoch E as holding data, so probes skip empty epochs

Dedup keys are grouped by epoch (a third of the TTL) and expire together at
the end of their epoch plus the TTL, so memory stays bounded without a TTL per
entry; many small hashes keep Redis's compact listpack encoding.

Feeds (hash tag ``{P:feeds}``):

``P:{P:feeds}:state:<feed digest>`` hash: url, etag, last_modified, failures, next_poll,
last_error, deactivated, last_ok, moved_to (the alias of a permanently redirected feed).
``P:{P:feeds}:added`` hash: feed url → JSON of feeds added at run time (CLI).
``P:{P:feeds}:lease:<url digest>`` string with PX: the worker polling that feed now (SET NX),
so several workers never fetch one feed at once; lives one polling interval.

Stories and facts (hash tag per story ``{P:s:<id>}``):

``P:{P:s:<id>}:meta`` hash (profile JSON, pending "also reported by" notes),
``P:{P:s:<id>}:facts`` list of fact JSON (the story's fact memory),
``P:{P:s:<id>}:done`` hash (article id → outcome record JSON, written atomically with the
story and its facts so that an article replayed after a crash is recognised; one day TTL),
``P:{P:srclines:<source digest>}:<week>`` hash (line digest → articles of that source that had
the line, and ``a:<article digest>`` → 1 for each article counted, so a replayed article
counts once;
the line; learned per-source boilerplate, expires after three weeks),
``P:a2s:<article digest>`` string (the story an article joined).
Story assignment (hash tag ``{P:st}``, so that one script reads or writes all of an
article's index keys and counts in one call): ``P:{P:st}:seq`` counter (story numbers),
``P:{P:st}:t:<key>`` sorted set (story id →
last update; the inverted index), ``P:{P:st}:df:<bucket>`` hash (term or ``#figure`` →
number of articles of that time bucket that had it; ``*`` → number of articles;
``a:<article digest>`` → 1 once the article is counted, so a replay counts nothing), one per
story window, two in use.
All expire after the story inactivity window (df buckets two story windows after their last
count).

Ingest journal (``bot.ingest_stream``): ``P:{P:ingest}:stream`` stream, one entry per
polled or pushed article (``feed``, ``article`` JSON), consumer group ``pipeline``; written
before the feed's new state is saved, acknowledged and deleted once the article's digest
entry reached the outbox; approximately capped at a million entries.
``P:{P:ingest}:leader`` string with PX: the one worker that runs the pipeline now (its
process token); renewed every batch, taken over when it runs out.

Subscriptions and delivery: ``P:subs`` hash (target → subscription JSON).

Outbox (hash tag ``{P:outbox}``: fan-out, the scheduler's move and the sender's
ack + dead-letter are single scripts or MULTIs over these):

- ``P:{P:outbox}:stream`` stream: one message per digest to send
  (``target``, ``entries`` JSON list of entry ids, ``digest_id``), consumer group
  ``telegram``; approximately capped (MAXLEN ~), delivered messages are deleted.
- ``P:{P:outbox}:dead`` stream: dead letters (``reason``, ``target``, ``digest_id``,
  ``entries``, ``stream_id``, ``at``), approximately capped.
- ``P:{P:outbox}:pending:<target>`` list: entry ids waiting for a scheduled digest
  or for quiet hours to end; expires with the entries.
- ``P:{P:outbox}:fan:<target digest>:<entry id>`` string: "this entry was queued
  for this target" (SET NX), makes fan-out idempotent; expires with the entry.
- ``P:{P:outbox}:last`` hash: target → ms of the last scheduled digest (or empty slot).
- ``P:{P:outbox}:leader`` string: the scheduler lease (owner token, PX).
- ``P:entry:<entry id>`` string: the entry's JSON, stored once for all targets (TTL).

Telegram delivery:

- ``P:sent:<digest id>:<part>`` string: ``inflight:<owner>`` (PX lease) while one
  sender is sending that part, then ``sent:<message id>`` (TTL); the per-part
  exactly-once marker.
- ``P:msg:<target>:<story id>`` hash: ``id`` (the story's latest message in that
  chat, for reply/edit updates) and, in edit mode, ``html`` (its text); TTL.
- ``P:delivery:stats`` hash: counters (sent, edited, retry_after, retried, dead,
  deactivated, migrated, trimmed).
- ``P:delivery:deactivated`` hash: target → JSON {reason, at} for ``/stats``.
- ``P:delivery:migrated`` hash: old chat id → new chat id (group → supergroup).

Rate limits (hash tag ``{P:rl}``: one script checks and takes every bucket):

- ``P:{P:rl}:g`` the global bucket, ``P:{P:rl}:c:<chat>`` per chat,
  ``P:{P:rl}:grp:<chat>`` per group/channel: strings holding the GCRA
  "theoretical arrival time" in ms; PX so idle buckets vanish.
- ``P:{P:rl}:w`` sorted set: the global sliding window, permit id → ms of
  Telegram's answer (or of "go" plus the flight time while in flight).
- ``P:{P:rl}:pause`` / ``P:{P:rl}:pause:<chat>`` strings with PX: a ``retry_after``
  pause for everyone / one chat; ``P:{P:rl}:429`` sorted set (chat → ms of its last
  429) that turns 429s from several chats at once into a global pause.

Webhook delivery (``bot.webhook_sender``):

- ``P:{P:outbox}:webhook`` stream: outbox messages for ``webhook:<name>`` targets (same
  fields as the Telegram stream), consumer group ``webhooks``; a stream of its own so the
  Telegram sender never sees (and dead-letters) them. Dead letters share ``…:dead``.
- ``P:whsent:<digest id>:<part>`` string: ``inflight:<owner>`` (PX lease), then
  ``sent:<status>`` (TTL); the per-part exactly-once marker of a webhook post.
- ``P:webhook:stats`` hash: counters (sent, retry_after, retried, dead, deactivated).
- ``P:whthread:<target digest>:<story id>`` string: the Discord forum thread a story's
  digests go to (the ``channel_id`` Discord answered for its first post); TTL.

Inbound signed commands: ``P:seen:<kind>:<digest>`` string (SET NX, expires after twice
the signature tolerance): a Slack signature or a ``webhook-id`` already used, so a
captured request replayed within the tolerance is refused.

Bot commands: ``P:digest:now`` set of targets that asked for a digest with
``/digest`` while no sender was wired into the bot; the scheduler pops them.
Per-sender command limit (hash tag ``{P:cmd:<sender>}``, one script reads both):
``P:{P:cmd:<sender>}:rate`` string, the GCRA "theoretical arrival time" in ms of the
sender's command bucket, and ``P:{P:cmd:<sender>}:noted`` string, "the polite note went
out"; both PX, gone when the sender is idle.
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

    def feed_lease(self, url: str) -> str:
        digest = hashlib.blake2b(url.encode(), digest_size=8).hexdigest()
        return f"{self.feeds_base}:lease:{digest}"

    def feeds_added(self) -> str:
        return f"{self.feeds_base}:added"

    # stories -------------------------------------------------------------
    def story_meta(self, story_id: str) -> str:
        return f"{self.prefix}:{{{self.prefix}:s:{story_id}}}:meta"

    def story_facts(self, story_id: str) -> str:
        return f"{self.prefix}:{{{self.prefix}:s:{story_id}}}:facts"

    def ingest_stream(self) -> str:
        return f"{self.prefix}:{{{self.prefix}:ingest}}:stream"

    def ingest_leader(self) -> str:
        return f"{self.prefix}:{{{self.prefix}:ingest}}:leader"

    def story_turn(self) -> str:
        """Lease: the worker whose turn it is to decide stories (``stories.workers``)."""
        return f"{self.prefix}:{{{self.prefix}:ingest}}:turn"

    def story_turn_free(self) -> str:
        """List: a wake-up for a worker waiting for the story turn, pushed on hand-back."""
        return f"{self.prefix}:{{{self.prefix}:ingest}}:turn-free"

    def story_done(self, story_id: str) -> str:
        return f"{self.prefix}:{{{self.prefix}:s:{story_id}}}:done"

    def story_term(self, term: str) -> str:
        return f"{self.prefix}:{{{self.prefix}:st}}:t:{term}"

    def article_story(self, article_id: str) -> str:
        digest = hashlib.blake2b(article_id.encode(), digest_size=8).hexdigest()
        return f"{self.prefix}:a2s:{digest}"

    def source_lines(self, source: str, week: int) -> str:
        """Hash: line digest → number of the source's articles that had it (per week)."""
        digest = hashlib.blake2b(source.encode(), digest_size=8).hexdigest()
        return f"{self.prefix}:{{{self.prefix}:srclines:{digest}}}:{week}"

    def story_seq(self) -> str:
        return f"{self.prefix}:{{{self.prefix}:st}}:seq"

    def story_df(self, bucket: int) -> str:
        """Document frequencies of terms and figures in one time bucket (hash; see
        ``bot.story_store``)."""
        return f"{self.prefix}:{{{self.prefix}:st}}:df:{bucket}"

    # subscriptions and delivery ----------------------------------------------
    def subscriptions(self) -> str:
        return f"{self.prefix}:subs"

    # outbox ------------------------------------------------------------------
    def _outbox(self) -> str:
        return f"{self.prefix}:{{{self.prefix}:outbox}}"

    def outbox_stream(self) -> str:
        return f"{self._outbox()}:stream"

    def outbox_stream_for(self, target: str) -> str:
        """The stream a target's digests go to: webhooks have their own (see above)."""
        return self.webhook_stream() if target.startswith("webhook:") else self.outbox_stream()

    def webhook_stream(self) -> str:
        return f"{self._outbox()}:webhook"

    def outbox_dead(self) -> str:
        return f"{self._outbox()}:dead"

    def outbox_pending(self, target: str) -> str:
        return f"{self._outbox()}:pending:{target}"

    def outbox_fanned(self, target: str, entry_id: str) -> str:
        digest = hashlib.blake2b(target.encode(), digest_size=8).hexdigest()
        return f"{self._outbox()}:fan:{digest}:{entry_id}"

    def outbox_last_sent(self) -> str:
        return f"{self._outbox()}:last"

    def outbox_leader(self) -> str:
        return f"{self._outbox()}:leader"

    def entry(self, entry_id: str) -> str:
        return f"{self.prefix}:entry:{entry_id}"

    # telegram delivery -----------------------------------------------------------
    def part_marker(self, digest_id: str, part: int) -> str:
        return f"{self.prefix}:sent:{digest_id}:{part}"

    def story_message(self, target: str, story_id: str) -> str:
        return f"{self.prefix}:msg:{target}:{story_id}"

    def delivery_stats(self) -> str:
        return f"{self.prefix}:delivery:stats"

    def deactivations(self) -> str:
        return f"{self.prefix}:delivery:deactivated"

    def migrations(self) -> str:
        return f"{self.prefix}:delivery:migrated"

    # webhook delivery --------------------------------------------------------------
    def webhook_marker(self, digest_id: str, part: int) -> str:
        return f"{self.prefix}:whsent:{digest_id}:{part}"

    def webhook_stats(self) -> str:
        return f"{self.prefix}:webhook:stats"

    def webhook_thread(self, target: str, story_id: str) -> str:
        digest = hashlib.blake2b(target.encode(), digest_size=8).hexdigest()
        return f"{self.prefix}:whthread:{digest}:{story_id}"

    def request_seen(self, kind: str, token: str) -> str:
        digest = hashlib.blake2b(token.encode(), digest_size=12).hexdigest()
        return f"{self.prefix}:seen:{kind}:{digest}"

    # rate limits -------------------------------------------------------------------
    def _rl(self) -> str:
        return f"{self.prefix}:{{{self.prefix}:rl}}"

    def rate_global(self) -> str:
        return f"{self._rl()}:g"

    def rate_chat(self, chat_id: int) -> str:
        return f"{self._rl()}:c:{chat_id}"

    def rate_group(self, chat_id: int) -> str:
        return f"{self._rl()}:grp:{chat_id}"

    def rate_window(self) -> str:
        return f"{self._rl()}:w"

    def pause_global(self) -> str:
        return f"{self._rl()}:pause"

    def pause_chat(self, chat_id: int) -> str:
        return f"{self._rl()}:pause:{chat_id}"

    def recent_429s(self) -> str:
        return f"{self._rl()}:429"

    def digest_requests(self) -> str:
        return f"{self.prefix}:digest:now"

    def command_rate(self, sender: int | str) -> str:
        return f"{self.prefix}:{{{self.prefix}:cmd:{sender}}}:rate"

    def command_noted(self, sender: int | str) -> str:
        return f"{self.prefix}:{{{self.prefix}:cmd:{sender}}}:noted"

    def all_pattern(self) -> str:
        return f"{self.prefix}:*"
