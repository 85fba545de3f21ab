"""Dead letters: digests a sender gave up on, kept in ``P:{P:outbox}:dead`` for a person.

Both senders write the same fields (the outbox message's ``target``, ``entries``
and ``digest_id``, plus ``reason``, ``stream_id`` and ``at``). Retrying puts the
message back on the stream its target belongs to (Telegram or webhooks) with the
same digest id, so parts that were posted before the failure keep their "sent"
markers and are not posted again; the move is one MULTI, so a letter is never
both retried and kept, or lost between the two.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis.asyncio as aioredis

from bot.keys import Keys
from bot.outbox import STREAM_MAXLEN

MESSAGE_FIELDS = ("target", "entries", "digest_id")


@dataclass(frozen=True, slots=True)
class DeadLetter:
    id: str
    target: str
    digest_id: str
    entries: str
    reason: str
    at: int

    def line(self) -> str:
        when = datetime.fromtimestamp(self.at, UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        return f"{self.id}\t{when}\t{self.target}\t{self.digest_id}\t{self.reason}"


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _letter(msg_id: Any, raw: Any) -> DeadLetter:
    fields = {_text(k): _text(v) for k, v in (raw or {}).items()}
    at = fields.get("at", "0")
    return DeadLetter(
        id=_text(msg_id),
        target=fields.get("target", ""),
        digest_id=fields.get("digest_id", ""),
        entries=fields.get("entries", "[]"),
        reason=fields.get("reason", ""),
        at=int(at) if at.isdigit() else 0,
    )


class DeadLetters:
    def __init__(self, client: aioredis.Redis, keys: Keys) -> None:
        self.client = client
        self.keys = keys
        self.key = keys.outbox_dead()

    async def oldest(self, limit: int = 100) -> list[DeadLetter]:
        raw: Any = await self.client.xrange(self.key, count=limit)
        return [_letter(i, f) for i, f in raw]

    async def _pick(self, ids: Sequence[str], everything: bool) -> list[DeadLetter]:
        raw: Any
        if everything:
            raw = await self.client.xrange(self.key)
            return [_letter(i, f) for i, f in raw]
        found: list[DeadLetter] = []
        for msg_id in ids:
            raw = await self.client.xrange(self.key, min=msg_id, max=msg_id)
            found.extend(_letter(i, f) for i, f in raw)
        return found

    async def retry(self, ids: Sequence[str], everything: bool = False) -> list[DeadLetter]:
        """Queue the letters again (by id, or all); the letters that were moved."""
        moved = []
        for letter in await self._pick(ids, everything):
            pipe = self.client.pipeline(transaction=True)
            pipe.xadd(
                self.keys.outbox_stream_for(letter.target),
                {"target": letter.target, "entries": letter.entries, "digest_id": letter.digest_id},
                maxlen=STREAM_MAXLEN,
                approximate=True,
            )
            pipe.xdel(self.key, letter.id)
            await pipe.execute()
            moved.append(letter)
        return moved

    async def drop(self, ids: Sequence[str], everything: bool = False) -> int:
        letters = await self._pick(ids, everything)
        if not letters:
            return 0
        return int(await self.client.xdel(self.key, *[letter.id for letter in letters]))
