"""Leases in Redis: a key one owner holds for a while and may take again to extend it.

The scheduler, the pipeline leader and feed polling all use the same two scripts:
take (free, or already ours: set it with a fresh expiry) and release (only if ours).
"""

from __future__ import annotations

import redis.asyncio as aioredis

# KEYS: lease. ARGV: owner, ttl ms. 1 when the owner holds it now.
_TAKE = """
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""
# KEYS: lease. ARGV: owner. 1 when it was ours and is gone.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


async def take(client: aioredis.Redis, key: str, owner: str, ttl_ms: int) -> bool:
    """Take the lease, or extend it when ``owner`` holds it already."""
    return bool(await client.register_script(_TAKE)(keys=[key], args=[owner, ttl_ms]))


async def release(client: aioredis.Redis, key: str, owner: str) -> bool:
    """Give the lease up if ``owner`` holds it (a clean stop: another may take it at once)."""
    return bool(await client.register_script(_RELEASE)(keys=[key], args=[owner]))
