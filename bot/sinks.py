"""Where digests go. The console sink prints them; later sinks post to chat platforms."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Protocol, TextIO

from digests.models import DigestEntry
from digests.render import TELEGRAM_LIMIT, render_messages

RULE = "─" * 60


class Sink(Protocol):
    async def deliver(self, entries: Sequence[DigestEntry]) -> None: ...


class ConsoleSink:
    """Prints each digest message, separated by a rule, to a text stream."""

    def __init__(self, fmt: str = "text", language: str = "en", stream: TextIO | None = None):
        self.fmt = fmt
        self.language = language
        self.stream = stream or sys.stdout

    async def deliver(self, entries: Sequence[DigestEntry]) -> None:
        limit = TELEGRAM_LIMIT if self.fmt == "telegram" else 100_000
        for message in render_messages(entries, self.fmt, self.language, limit):
            self.stream.write(message + "\n" + RULE + "\n")
        self.stream.flush()
