"""Subscriptions in Redis: one hash, target → JSON, so a full scan is one HGETALL.

Targets look like ``telegram:<chat id>`` or ``telegram:<chat id>:<thread id>``
(a forum topic); webhook sinks use ``webhook:<name>``.
"""

from __future__ import annotations

import json

import redis.asyncio as aioredis

from bot.keys import Keys
from digests.subscriptions import Subscription


def telegram_target(chat_id: int, thread_id: int | None = None) -> str:
    return f"telegram:{chat_id}" + (f":{thread_id}" if thread_id else "")


def parse_telegram_target(target: str) -> tuple[int, int | None]:
    """(chat id, thread id or None) of a ``telegram:`` target."""
    _, chat, *rest = target.split(":")
    return int(chat), (int(rest[0]) if rest else None)


class SubscriptionStore:
    """CRUD over subscriptions; every change is a single atomic command or script."""

    def __init__(self, client: aioredis.Redis, keys: Keys) -> None:
        self.client = client
        self.key = keys.subscriptions()

    async def get(self, target: str) -> Subscription | None:
        raw = await self.client.hget(self.key, target)
        return Subscription.from_dict(json.loads(raw)) if raw else None

    async def put(self, sub: Subscription) -> None:
        await self.client.hset(self.key, sub.target, json.dumps(sub.to_dict()))

    async def delete(self, target: str) -> bool:
        return bool(await self.client.hdel(self.key, target))

    async def all(self, active_only: bool = False) -> list[Subscription]:
        raw = await self.client.hgetall(self.key)
        subs = [Subscription.from_dict(json.loads(v)) for v in raw.values()]
        subs.sort(key=lambda s: s.target)
        return [s for s in subs if s.active] if active_only else subs

    async def for_chat(self, chat_id: int) -> list[Subscription]:
        prefix = telegram_target(chat_id)
        return [
            s for s in await self.all() if s.target == prefix or s.target.startswith(prefix + ":")
        ]

    async def deactivate(self, target: str, reason: str) -> None:
        sub = await self.get(target)
        if sub is not None:
            await self.put(sub.with_changes(active=False, deactivated_reason=reason))

    async def migrate_chat(self, old_chat_id: int, new_chat_id: int) -> list[str]:
        """Move every subscription of a group that became a supergroup; the new targets."""
        moved = []
        for sub in await self.for_chat(old_chat_id):
            _, thread = parse_telegram_target(sub.target)
            new = sub.with_changes(
                target=telegram_target(new_chat_id, thread), chat_type="supergroup"
            )
            pipe = self.client.pipeline(transaction=True)
            pipe.hset(self.key, new.target, json.dumps(new.to_dict()))
            pipe.hdel(self.key, sub.target)
            await pipe.execute()
            moved.append(new.target)
        return moved
