"""The connection the product talks to Redis through packs commands in C
(hiredis) when it can: what is stored must come back exactly as it went in."""

from __future__ import annotations

import redis.asyncio as aioredis
from redis.asyncio.connection import Connection

from bot.keys import Keys
from bot.redis_conn import CPackedConnection, connect

# Arguments of every kind the stores send: text in several scripts, raw bytes,
# numbers of both kinds, a value far past redis-py's 6,000-byte chunking cutoff.
ODD_VALUES: list[str | bytes | int | float] = [
    "Selenskyj dankt Kyjiw – „14.000“ Soldaten",
    "日本語のニュース 😀",
    b"\x00\xff\r\n$*binary",
    -0.0,
    1 / 3,
    1_763_000_000.123456,
    2**63 - 1,
    "x" * 70_000,
    "",
]


def test_c_packing_sends_the_bytes_redis_py_would() -> None:
    python, c = Connection(), CPackedConnection()
    commands: list[tuple[str | bytes | int | float, ...]] = [
        ("EVALSHA", "ab" * 20, 2, "k1", "k2", *ODD_VALUES),
        ("CONFIG GET", "maxmemory"),
        (b"ZADD", "k", 1.5, "m"),
    ]
    for command in commands:
        assert b"".join(c.pack_command(*command)) == b"".join(python.pack_command(*command))


async def test_values_round_trip_through_the_products_connection(
    redis_url: str, keys: Keys
) -> None:
    client: aioredis.Redis = await connect(redis_url, 5.0)
    try:
        if redis_url.startswith("redis://"):
            pool = client.connection_pool
            assert pool.connection_class is CPackedConnection
        key = keys.prefix + ":odd"
        await client.rpush(key, *ODD_VALUES)
        back = await client.lrange(key, 0, -1)
        expected = [
            v if isinstance(v, bytes) else (v.encode() if isinstance(v, str) else repr(v).encode())
            for v in ODD_VALUES
        ]
        assert back == expected
        # and through a pipeline, as the stores send their batches
        pipe = client.pipeline(transaction=False)
        for i, value in enumerate(ODD_VALUES):
            pipe.hset(key + ":h", str(i), value)
        pipe.hgetall(key + ":h")
        replies = await pipe.execute()
        assert replies[-1] == {str(i).encode(): v for i, v in enumerate(expected)}
    finally:
        await client.delete(keys.prefix + ":odd", keys.prefix + ":odd:h")
        await client.aclose()
