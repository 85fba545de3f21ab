"""Pytest fixture for the Telegram Bot API emulator (load with ``pytest_plugins``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.telegram_emulator import TelegramEmulator


@pytest.fixture
def telegram_emulator() -> Iterator[TelegramEmulator]:
    """A started :class:`TelegramEmulator` with default limits; fails the test on emulator bugs."""
    emulator = TelegramEmulator().start()
    try:
        yield emulator
    finally:
        emulator.stop()
    if emulator.internal_errors:
        pytest.fail("telegram emulator crashed:\n" + "\n".join(emulator.internal_errors))
