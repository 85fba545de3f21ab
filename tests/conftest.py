"""Shared fixtures: a real Redis for every test, isolated by key prefix.

``REDIS_URL`` when set (CI on this machine has one), otherwise one embedded
Valkey server per test session.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from bot.keys import Keys
from bot.redis_conn import EmbeddedServer, connect

pytest_plugins = ["tests.telegram_fixtures"]

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("REDIS_URL", "")
    if url:
        yield url
        return
    server = EmbeddedServer(tmp_path_factory.mktemp("redis"))
    url = server.start()
    try:
        yield url
    finally:
        server.stop()


@pytest.fixture
def keys() -> Keys:
    return Keys(f"test-{uuid.uuid4().hex[:12]}")


@pytest.fixture
async def redis_client(redis_url: str, keys: Keys) -> AsyncIterator[aioredis.Redis]:
    client = await connect(redis_url, 5.0)  # the product's own connection settings
    try:
        yield client
    finally:
        async for key in client.scan_iter(match=keys.all_pattern(), count=1000):
            await client.unlink(key)
        await client.aclose()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """How many fuzz cases ran, and for how long (the properties in tests/test_fuzz_*.py)."""
    from tests.fuzzing import CASES

    if not CASES:
        return
    calls = [
        report
        for status in ("passed", "failed")
        for report in terminalreporter.stats.get(status, [])
        if getattr(report, "when", "") == "call" and "test_fuzz_" in report.nodeid
    ]
    seconds = sum(report.duration for report in calls)
    terminalreporter.write_line(
        f"fuzz: {sum(CASES.values())} cases over {len(CASES)} properties in {seconds:.1f} s"
    )
