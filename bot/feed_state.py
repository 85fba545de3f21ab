"""Per-feed polling state in Redis: validators, failures, schedule, permanent moves.

One hash per feed at :meth:`Keys.feed_state`. A feed that answered a permanent
redirect keeps its state under the new URL; the hash of every URL it was known
by before holds only ``url`` and ``moved_to``, so the URL in the configuration
file keeps working without anyone editing it.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, fields
from urllib.parse import urlsplit, urlunsplit

import redis.asyncio as aioredis

from bot import leases
from bot.keys import Keys

log = logging.getLogger(__name__)

# A chain of aliases longer than this is a bug (moved() compresses chains), not a feed.
MAX_ALIAS_HOPS = 16


def redact_url(url: str) -> str:
    """``url`` with any ``user:password@`` replaced by ``***@``, for logs and stored errors."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"***@{host}"))


@dataclass
class FeedState:
    url: str
    etag: str = ""
    last_modified: str = ""
    failures: int = 0
    next_poll: float = 0.0
    last_error: str = ""
    deactivated: str = ""
    last_ok: float = 0.0


_FIELDS = {f.name: f.type for f in fields(FeedState)}


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _encode(state: FeedState) -> dict[str, str]:
    return {name: repr(v) if isinstance(v, float) else str(v) for name, v in asdict(state).items()}


def _decode(url: str, raw: dict[str, str]) -> FeedState:
    state = FeedState(url=url)
    for name, value in raw.items():
        kind = _FIELDS.get(name)
        if kind is None or name == "url":
            continue
        # A hand-edited or older hash must not stop polling: a bad number keeps its default.
        try:
            if kind == "int":
                setattr(state, name, int(value))
            elif kind == "float":
                setattr(state, name, float(value))
            else:
                setattr(state, name, value)
        except ValueError:
            log.warning("feed state %s: ignoring bad %s=%r", redact_url(url), name, value)
    return state


class FeedStateStore:
    """Reads and writes :class:`FeedState`; all keys come from :class:`Keys`."""

    def __init__(self, redis: aioredis.Redis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys

    async def _load(self, url: str) -> dict[str, str]:
        raw = await self._redis.hgetall(self._keys.feed_state(url))
        return {_text(k): _text(v) for k, v in raw.items()}

    async def _resolve(self, url: str) -> tuple[list[str], dict[str, str]]:
        """The alias chain starting at ``url`` (last = where the state lives) and that hash."""
        chain = [url]
        raw = await self._load(url)
        while raw.get("moved_to"):
            target = raw["moved_to"]
            if target in chain or len(chain) > MAX_ALIAS_HOPS:
                log.warning(
                    "feed state alias loop at %s; using the last state found", redact_url(target)
                )
                break
            chain.append(target)
            raw = await self._load(target)
        return chain, raw

    async def get(self, url: str) -> FeedState:
        """The state of the feed configured as ``url``; ``state.url`` is where it now lives."""
        chain, raw = await self._resolve(url)
        return _decode(chain[-1], raw)

    async def put(self, state: FeedState) -> None:
        key = self._keys.feed_state(state.url)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping=_encode(state))  # type: ignore[arg-type]
            # Writing state here means it lives here now, even if this URL had moved away.
            pipe.hdel(key, "moved_to")
            await pipe.execute()

    async def lease(self, url: str, owner: str, ttl_ms: int) -> bool:
        """Take the right to poll ``url`` for ``ttl_ms``; False when another worker has it.

        Several workers share the feeds this way: the lease outlives one polling
        interval's fetch, and the feed's ``next_poll`` written on success keeps the
        others off until it is due again. A worker that dies holding it delays the feed
        by at most ``ttl_ms``. The holder may take it again (and so extend it).
        """
        return await leases.take(self._redis, self._keys.feed_lease(url), owner, ttl_ms)

    async def moved(self, old_url: str, new_url: str) -> None:
        """``old_url`` answered a permanent redirect to ``new_url``: move its state there.

        Every URL in the old alias chain then points straight at ``new_url``, so
        lookups stay one hop and a feed moving back to an earlier URL never loops.
        """
        if old_url == new_url:
            return
        chain, raw = await self._resolve(old_url)
        state = _decode(new_url, raw)
        async with self._redis.pipeline(transaction=True) as pipe:
            new_key = self._keys.feed_state(new_url)
            pipe.delete(new_key)
            pipe.hset(new_key, mapping=_encode(state))  # type: ignore[arg-type]
            for alias in chain:
                if alias == new_url:
                    continue
                key = self._keys.feed_state(alias)
                pipe.delete(key)
                pipe.hset(key, mapping={"url": alias, "moved_to": new_url})
            await pipe.execute()
