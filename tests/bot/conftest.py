"""Fixtures for the shell's tests: a loopback feed server and the feed state store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis.asyncio as aioredis

from bot.feed_state import FeedStateStore
from bot.keys import Keys
from tests.httpserver import FeedServer


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def feed_states(redis_client: aioredis.Redis, keys: Keys) -> FeedStateStore:
    return FeedStateStore(redis_client, keys)
