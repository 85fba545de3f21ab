"""The dedup core's Redis side: atomic probe-and-claim in one Lua script.

One round trip decides most articles: an exact hit or "no LSH candidate"
claims or rejects atomically inside the script. Only when LSH proposes
candidates does a second call commit the verified decision; that call checks
again, so two workers never both accept one article.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import datetime

import redis.asyncio as aioredis

from bot.keys import Keys
from digests.dedup import Candidate, verify_near_duplicate
from digests.fingerprints import NUM_PERM, Fingerprint, fingerprint
from digests.models import Article, DedupDecision

SIG_BYTES = NUM_PERM * 2
EXACT_REASONS = ("guid", "url", "content")
MAX_COMMIT_RETRIES = 3

# Records: b"N" + signature + id + b"\0" + lead    (an accepted article)
#          b"D" + original key (8) + reason (1) + similarity (f32) + id   (a duplicate)
_SCRIPT = r"""
local base = ARGV[1]
local mode = ARGV[2]
local shards = tonumber(ARGV[3])
local cur = tonumber(ARGV[4])
local nep = tonumber(ARGV[5])
local expire_at = tonumber(ARGV[6])
local akey = ARGV[7]
local record = ARGV[8]
local nx = tonumber(ARGV[9])
local nb = tonumber(ARGV[10])
local ident = ARGV[11]
local exact = {}
for i = 1, nx do exact[i] = ARGV[11 + i] end
local bands = {}
for i = 1, nb do bands[i] = ARGV[11 + nx + i] end
local extra = 12 + nx + nb

-- Only epochs that hold anything are probed: most of the time that is one or two.
local live = {}
for j = 0, nep - 1 do
  if redis.call('EXISTS', base .. ':e:' .. (cur - j)) == 1 then live[#live + 1] = cur - j end
end

local function shard(d)
  return (string.byte(d, 1) * 256 + string.byte(d, 2)) % shards
end
local function key(kind, epoch, d)
  return base .. ':' .. kind .. ':' .. epoch .. ':' .. shard(d)
end
local function find_record(k)
  for _, e in ipairs(live) do
    local r = redis.call('HGET', key('r', e, k), k)
    if r then return r end
  end
  return false
end
local marked = false
local function mark()
  if not marked then
    redis.call('SET', base .. ':e:' .. cur, '1', 'EXAT', expire_at)
    marked = true
  end
end
local function put(kind, d, v, nx_only)
  mark()
  local k = key(kind, cur, d)
  if nx_only then redis.call('HSETNX', k, d, v) else redis.call('HSET', k, d, v) end
  redis.call('EXPIREAT', k, expire_at)
end
local function note_duplicate(orig, reason, sim)
  for i = 1, nx do put('x', exact[i], orig, true) end
  put('r', akey, 'D' .. orig .. reason .. sim .. ident, false)
end

-- exact signals, across all live epochs
for i = 1, nx do
  for _, e in ipairs(live) do
    local v = redis.call('HGET', key('x', e, exact[i]), exact[i])
    if v then
      local orig_rec = find_record(v)
      if v ~= akey then note_duplicate(v, string.char(i), string.rep('\0', 4)) end
      return {'exact', i, v, orig_rec}
    end
  end
end

if mode == 'near' then
  note_duplicate(ARGV[extra], ARGV[extra + 1], ARGV[extra + 2])
  return {'near'}
end

-- LSH candidates, counted by shared bands
local counts = {}
local order = {}
for i = 1, nb do
  for _, e in ipairs(live) do
    local v = redis.call('HGET', key('b', e, bands[i]), bands[i])
    if v then
      for p = 1, #v, 8 do
        local c = string.sub(v, p, p + 7)
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
  local out = {'cand'}
  for i = 1, math.min(#fresh, 8) do
    local r = find_record(fresh[i])
    if r then
      out[#out + 1] = fresh[i]
      out[#out + 1] = counts[fresh[i]]
      out[#out + 1] = r
    end
  end
  if #out > 1 then return out end
end

-- nobody has it: claim it
mark()
for i = 1, nx do put('x', exact[i], akey, true) end
for i = 1, nb do
  local k = key('b', cur, bands[i])
  local v = redis.call('HGET', k, bands[i])
  if not v then
    redis.call('HSET', k, bands[i], akey)
  elseif #v < 32 then
    redis.call('HSET', k, bands[i], v .. akey)
  end
  redis.call('EXPIREAT', k, expire_at)
end
put('r', akey, record, false)
return {'new'}
"""


@dataclass(frozen=True, slots=True)
class DedupSettings:
    ttl_days: int = 30
    shards: int = 1024
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

    def _args(self, fp: Fingerprint, article: Article, now: datetime, mode: str) -> list[bytes]:
        ts = int(now.timestamp())
        epoch_len = self.settings.epoch_seconds
        epoch = ts // epoch_len
        expire_at = (epoch + 1) * epoch_len + self.settings.ttl_days * 86400
        record = b"N" + fp.signature + article.id.encode() + b"\0" + fp.lead.encode()
        args: list[bytes] = [
            self.keys.dedup_base.encode(),
            mode.encode(),
            str(self.settings.shards).encode(),
            str(epoch).encode(),
            str(self.settings.live_epochs).encode(),
            str(expire_at).encode(),
            fp.key,
            record,
            str(len(fp.exact)).encode(),
            str(len(fp.bands)).encode(),
            article.id.encode(),
        ]
        args.extend(d for _, d in fp.exact)
        args.extend(fp.bands)
        return args

    async def _call(self, args: list[bytes]) -> list[bytes]:
        self.round_trips += 1
        result: list[bytes] = await self._script(keys=[self.keys.dedup_route()], args=args)
        return result

    async def claim(self, article: Article, now: datetime) -> DedupDecision:
        """Atomically accept ``article`` as new or name what it duplicates."""
        fp = fingerprint(article)
        seen: list[bytes] = []
        candidates: list[Candidate] = []
        key_of: dict[str, bytes] = {}
        mode = "probe"
        for _ in range(MAX_COMMIT_RETRIES + 1):
            args = self._args(fp, article, now, mode)
            if mode == "new":
                args.append(str(len(seen)).encode())
                args.extend(seen)
            reply = await self._call(args)
            tag = reply[0]
            if tag == b"exact":
                which = int(reply[1])
                orig = _record_id(reply[3]) if reply[3] else ""
                return DedupDecision(
                    kind="exact",
                    duplicate_of=orig or article.id,
                    reason=fp.exact[which - 1][0],
                    similarity=1.0,
                )
            if tag == b"new":
                return DedupDecision(kind="new")
            # b"cand": verify the proposed candidates, then commit the verdict.
            for i in range(1, len(reply), 3):
                seen.append(reply[i])
                cand = _candidate(reply[i], int(reply[i + 1]), reply[i + 2])
                if cand is not None:
                    candidates.append(cand)
                    key_of[cand.article_id] = reply[i]
            decision = verify_near_duplicate(fp, candidates, self.settings.near_threshold)
            if decision.kind == "near" and decision.duplicate_of is not None:
                args = self._args(fp, article, now, "near")
                sim = struct.pack("<f", decision.similarity)
                args.extend([key_of[decision.duplicate_of], bytes([len(EXACT_REASONS) + 1]), sim])
                reply = await self._call(args)
                if reply[0] == b"exact":
                    # Another worker claimed this very article meanwhile.
                    which = int(reply[1])
                    orig = _record_id(reply[3]) if reply[3] else ""
                    return DedupDecision(
                        kind="exact",
                        duplicate_of=orig or article.id,
                        reason=fp.exact[which - 1][0],
                    )
                return decision
            mode = "new"
        # Candidates kept appearing (a hot burst of look-alikes): accept rather than loop.
        return DedupDecision(kind="new")
