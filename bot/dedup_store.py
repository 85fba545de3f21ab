"""The dedup core's Redis side: atomic probe-and-claim in one Lua script.

One round trip decides most articles: an exact hit or "no LSH candidate"
claims or rejects atomically inside the script. Only when LSH proposes
candidates does a second call commit the verified decision; that call checks
again, so two workers never both accept one article.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import redis.asyncio as aioredis
from redis.exceptions import NoScriptError

from bot.keys import Keys
from digests.dedup import WEAK_JACCARD, Candidate, verify_near_duplicate
from digests.fingerprints import NUM_PERM, Fingerprint, fingerprint
from digests.models import Article, DedupDecision

SIG_BYTES = NUM_PERM * 2
EXACT_REASONS = ("guid", "url", "content")
MAX_COMMIT_RETRIES = 3
# reason byte of a MinHash duplicate: after the exact signals (see the script).
_MINHASH_REASON = bytes([len(EXACT_REASONS) + 1])

# Records: b"N" + signature + id + b"\0" + lead    (an accepted article)
#          b"D" + original key (8) + reason (1) + similarity (f32) + id   (a duplicate)
#
# ARGV: base, mode, shards, band_shards, epoch, live epochs, expire_at, article key,
# record, exact digests (8 B each, concatenated), bands (8 B each, concatenated), id,
# near (equal signature positions that make a duplicate), weak (positions worth a
# lead comparison on the client), signature bytes, then the mode's extras.
_SCRIPT = r"""
local base = ARGV[1]
local mode = ARGV[2]
local shards = tonumber(ARGV[3])
local bshards = tonumber(ARGV[4])
local cur = tonumber(ARGV[5])
local nep = tonumber(ARGV[6])
local expire_at = ARGV[7]
local akey = ARGV[8]
local record = ARGV[9]
local xblob = ARGV[10]
local bblob = ARGV[11]
local ident = ARGV[12]
local near = tonumber(ARGV[13])
local weak = tonumber(ARGV[14])
local sig_len = tonumber(ARGV[15])
local extra = 16
local nx = #xblob / 8
local nb = #bblob / 8

local sub, byte = string.sub, string.byte
local call = redis.call
-- Only epochs that hold anything are probed (their marker key exists).
local live = {}
for j = 0, nep - 1 do
  if call('EXISTS', base .. ':e:' .. (cur - j)) == 1 then live[#live + 1] = cur - j end
end
local nlive = #live
local cur_live = live[1] == cur
-- Key prefixes, built once: prefix[kind][i] for live epoch i, now[kind] for writes.
local prefix, now = {}, {}
for _, kind in ipairs({'x', 'b', 'r'}) do
  local t = {}
  for i = 1, nlive do t[i] = base .. ':' .. kind .. ':' .. live[i] .. ':' end
  prefix[kind] = t
  now[kind] = base .. ':' .. kind .. ':' .. cur .. ':'
end
local marked = false
local function mark()
  if not marked then
    call('SET', base .. ':e:' .. cur, '1', 'EXAT', expire_at)
    marked = true
  end
end
local function shard(d, n)
  local b1, b2 = byte(d, 1, 2)
  return (b1 * 256 + b2) % n
end
local function find_record(k)
  local s = shard(k, shards)
  local pre = prefix['r']
  for j = 1, nlive do
    local r = call('HGET', pre[j] .. s, k)
    if r then return r end
  end
  return false
end
local function touch(k)
  call('EXPIREAT', k, expire_at)
end
local exact = {}
for i = 1, nx do exact[i] = sub(xblob, 8 * i - 7, 8 * i) end
local function note_duplicate(orig, reason, sim)
  mark()
  local pre = now['x']
  for i = 1, nx do
    local k = pre .. shard(exact[i], shards)
    call('HSETNX', k, exact[i], orig)
    touch(k)
  end
  local k = now['r'] .. shard(akey, shards)
  call('HSET', k, akey, 'D' .. orig .. reason .. sim .. ident)
  touch(k)
end

-- exact signals, across all live epochs
local xpre = prefix['x']
for i = 1, nx do
  local d = exact[i]
  local s = shard(d, shards)
  for j = 1, nlive do
    local v = call('HGET', xpre[j] .. s, d)
    if v then
      local orig_rec = find_record(v)
      if v ~= akey then note_duplicate(v, string.char(i), '\0\0\0\0') end
      return {'exact', i, v, orig_rec}
    end
  end
end

if mode == 'near' then
  note_duplicate(ARGV[extra], ARGV[extra + 1], ARGV[extra + 2])
  return {'near'}
end

-- LSH candidates, counted by shared bands
local bands = {}
local bkeys = {}
local bvals = {}  -- current-epoch value of each band, reused by the claim below
local counts = {}
local order = {}
local bpre = prefix['b']
for i = 1, nb do
  local d = sub(bblob, 8 * i - 7, 8 * i)
  local s = shard(d, bshards)
  bands[i] = d
  bkeys[i] = now['b'] .. s
  for j = 1, nlive do
    local v = call('HGET', bpre[j] .. s, d)
    if j == 1 and cur_live then bvals[i] = v end
    if v then
      for p = 1, #v, 8 do
        local c = sub(v, p, p + 7)
        if c ~= akey then
          if not counts[c] then counts[c] = 0; order[#order + 1] = c end
          counts[c] = counts[c] + 1
        end
      end
    end
  end
end

local seen = {}
if mode == 'new' then
  local n = tonumber(ARGV[extra])
  for i = 1, n do seen[ARGV[extra + i]] = true end
end
local fresh = {}
for _, c in ipairs(order) do
  if not seen[c] then fresh[#fresh + 1] = c end
end
if #fresh > 0 then
  table.sort(fresh, function(a, b) return counts[a] > counts[b] end)
  -- Verify here: equal 16-bit min-hash positions estimate the Jaccard similarity.
  local mine = {byte(record, 2, 1 + sig_len)}
  local best, best_eq, best_rec = nil, -1, nil
  local out = {'cand'}
  for i = 1, math.min(#fresh, 8) do
    local c = fresh[i]
    local r = find_record(c)
    if r and sub(r, 1, 1) == 'N' then
      local theirs = {byte(r, 2, 1 + sig_len)}
      local eq = 0
      for p = 1, sig_len, 2 do
        if mine[p] == theirs[p] and mine[p + 1] == theirs[p + 1] then eq = eq + 1 end
      end
      if eq >= near then
        if eq > best_eq then best, best_eq, best_rec = c, eq, r end
      elseif eq >= weak then
        out[#out + 1] = c
        out[#out + 1] = counts[c]
        out[#out + 1] = r
      end
    end
  end
  if best then
    -- reason byte 4 = len(EXACT_REASONS) + 1: "minhash"
    note_duplicate(best, '\4', struct.pack('<f', best_eq / (sig_len / 2)))
    return {'near', best, best_eq, best_rec}
  end
  -- Only a close lead can still make a weak candidate a duplicate: the client decides.
  if #out > 1 then return out end
end

-- nobody has it: claim it
mark()
local pre = now['x']
for i = 1, nx do
  local k = pre .. shard(exact[i], shards)
  call('HSETNX', k, exact[i], akey)
  touch(k)
end
for i = 1, nb do
  local k = bkeys[i]
  local v = bvals[i]
  if not v then
    call('HSET', k, bands[i], akey)
  elseif #v < 32 then
    call('HSET', k, bands[i], v .. akey)
  end
  touch(k)
end
local k = now['r'] .. shard(akey, shards)
call('HSET', k, akey, record)
touch(k)
return {'new'}
"""


@dataclass(frozen=True, slots=True)
class DedupSettings:
    ttl_days: int = 30
    shards: int = 1024
    # 20 band entries per article: 8192 shards keep an epoch of ~150k articles per shard
    # under hash-max-listpack-entries (512), so the hashes stay compact listpacks.
    band_shards: int = 8192
    near_threshold: float = 0.5

    @property
    def epoch_seconds(self) -> int:
        # Three epochs per TTL: entries live between TTL and 4/3 TTL.
        return max(3600, self.ttl_days * 86400 // 3)

    @property
    def live_epochs(self) -> int:
        return 4


def _record_id(record: bytes) -> str:
    if record[:1] == b"N":
        rest = record[1 + SIG_BYTES :]
        return rest.split(b"\0", 1)[0].decode("utf-8", "replace")
    if record[:1] == b"D":
        return record[1 + 8 + 1 + 4 :].split(b"\0", 1)[0].decode("utf-8", "replace")
    return ""


def _candidate(key: bytes, shared: int, record: bytes) -> Candidate | None:
    if record[:1] != b"N":
        return None
    rest = record[1 + SIG_BYTES :]
    ident, _, lead = rest.partition(b"\0")
    return Candidate(
        article_id=ident.decode("utf-8", "replace"),
        signature=record[1 : 1 + SIG_BYTES],
        lead=lead.decode("utf-8", "replace"),
        shared_bands=int(shared),
    )


class DedupStore:
    """Claims articles in Redis; returns why each was accepted or suppressed."""

    def __init__(self, client: aioredis.Redis, keys: Keys, settings: DedupSettings) -> None:
        self.client = client
        self.keys = keys
        self.settings = settings
        self._script = client.register_script(_SCRIPT)
        self.round_trips = 0
        self._base = keys.dedup_base.encode()
        self._shards = str(settings.shards).encode()
        self._band_shards = str(settings.band_shards).encode()
        self._near = str(math.ceil(settings.near_threshold * NUM_PERM - 1e-9)).encode()
        self._weak = str(math.ceil(WEAK_JACCARD * NUM_PERM - 1e-9)).encode()
        self._sig_bytes = str(SIG_BYTES).encode()
        self._epoch = -1
        self._epoch_args: tuple[bytes, bytes, bytes] = (b"", b"", b"")

    def _args(self, fp: Fingerprint, article: Article, now: datetime, mode: str) -> list[bytes]:
        ts = int(now.timestamp())
        epoch_len = self.settings.epoch_seconds
        epoch = ts // epoch_len
        if epoch != self._epoch:
            expire_at = (epoch + 1) * epoch_len + self.settings.ttl_days * 86400
            self._epoch = epoch
            self._epoch_args = (str(epoch).encode(), str(self.settings.live_epochs).encode(),
                                str(expire_at).encode())
        record = b"N" + fp.signature + article.id.encode() + b"\0" + fp.lead.encode()
        return [
            self._base,
            mode.encode(),
            self._shards,
            self._band_shards,
            *self._epoch_args,
            fp.key,
            record,
            b"".join(d for _, d in fp.exact),
            b"".join(fp.bands),
            article.id.encode(),
            self._near,
            self._weak,
            self._sig_bytes,
        ]

    def _claim_args(self, claim: _Claim) -> list[bytes]:
        args = self._args(claim.fp, claim.article, claim.now, claim.mode)
        if claim.mode == "new":
            args.append(str(len(claim.seen)).encode())
            args.extend(claim.seen)
        elif claim.mode == "near":
            verdict = claim.verdict
            assert verdict is not None and verdict.duplicate_of is not None
            sim = struct.pack("<f", verdict.similarity)
            args.extend([claim.key_of[verdict.duplicate_of], _MINHASH_REASON, sim])
        return args

    async def _run(self, claims: Sequence[_Claim]) -> list[list[bytes]]:
        """One round trip for all ``claims``: a direct call for one, a pipeline for more."""
        self.round_trips += 1
        route = self.keys.dedup_route()
        if len(claims) == 1:
            reply: list[bytes] = await self._script(keys=[route], args=self._claim_args(claims[0]))
            return [reply]
        argv = [self._claim_args(c) for c in claims]
        for attempt in range(2):
            # A transaction: under maxmemory the server refuses all claims of the round trip
            # or none (a plain pipeline runs the ones after a refused one, so a replay would
            # claim the batch in another order).
            pipe = self.client.pipeline(transaction=True)
            for args in argv:
                # EVALSHA, not the Script object: redis-py would add a SCRIPT EXISTS round
                # trip to every pipeline that holds a Script call. As a raw command because
                # redis-py's cluster pipeline refuses its evalsha() (the keys here share
                # one slot, which is all a cluster needs).
                pipe.execute_command("EVALSHA", self._script.sha, 1, route, *args)
            replies = await pipe.execute(raise_on_error=False)
            missing = any(isinstance(r, NoScriptError) for r in replies)
            if missing and attempt == 0:
                # The server lost its script cache (restart, SCRIPT FLUSH): load and redo.
                # Calls that did run are idempotent: an article already claimed answers "exact".
                await self.client.script_load(_SCRIPT)
                self.round_trips += 1
                continue
            for r in replies:
                if isinstance(r, Exception):
                    raise r
            return [list(r) for r in replies]
        raise AssertionError("unreachable")

    async def claim(self, article: Article, now: datetime) -> DedupDecision:
        """Atomically accept ``article`` as new or name what it duplicates."""
        return (await self.claim_many([article], now))[0]

    async def claim_many(self, articles: Sequence[Article], now: datetime) -> list[DedupDecision]:
        """Claim ``articles`` in order, all in one round trip when none needs verifying.

        The server runs the scripts one after another in list order, so a later
        article sees an earlier one of the same batch exactly as if they had been
        claimed one by one. Only articles whose LSH candidates need the client's
        lead comparison take a second round trip (again one for all of them).
        """
        claims = [_Claim(article, fingerprint(article), now) for article in articles]
        pending = claims
        while pending:
            replies = await self._run(pending)
            for claim, reply in zip(pending, replies, strict=True):
                self._interpret(claim, reply)
            pending = [c for c in claims if c.decision is None]
        return [c.decision for c in claims if c.decision is not None]

    def _interpret(self, claim: _Claim, reply: list[bytes]) -> None:
        tag = reply[0]
        fp = claim.fp
        if tag == b"exact":
            which = int(reply[1])
            orig = _record_id(reply[3]) if reply[3] else ""
            claim.decision = DedupDecision(
                kind="exact",
                duplicate_of=orig or claim.article.id,
                reason=fp.exact[which - 1][0],
                similarity=1.0,
            )
            return
        if claim.mode == "near":
            # The committed verdict of the client-side verification.
            claim.decision = claim.verdict
            return
        if tag == b"new":
            claim.decision = DedupDecision(kind="new")
            return
        if tag == b"near":
            # Verified in the script (signature agreement >= threshold) and recorded.
            claim.decision = DedupDecision(
                kind="near",
                duplicate_of=_record_id(reply[3]),
                reason="minhash",
                similarity=round(int(reply[2]) / NUM_PERM, 3),
            )
            return
        # b"cand": verify the proposed candidates, then commit the verdict.
        for i in range(1, len(reply), 3):
            claim.seen.append(reply[i])
            cand = _candidate(reply[i], int(reply[i + 1]), reply[i + 2])
            if cand is not None:
                claim.candidates.append(cand)
                claim.key_of[cand.article_id] = reply[i]
        verdict = verify_near_duplicate(fp, claim.candidates, self.settings.near_threshold)
        claim.attempts += 1
        if verdict.kind == "near" and verdict.duplicate_of is not None:
            claim.verdict = verdict
            claim.mode = "near"
        elif claim.attempts > MAX_COMMIT_RETRIES:
            # Candidates kept appearing (a hot burst of look-alikes): accept rather than loop.
            claim.decision = DedupDecision(kind="new")
        else:
            claim.mode = "new"


@dataclass(slots=True)
class _Claim:
    """One article's way through the probe / verify / commit exchange."""

    article: Article
    fp: Fingerprint
    now: datetime
    mode: str = "probe"
    seen: list[bytes] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    key_of: dict[str, bytes] = field(default_factory=dict)
    verdict: DedupDecision | None = None
    attempts: int = 0
    decision: DedupDecision | None = None
