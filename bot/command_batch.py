"""Redis commands sent in order, in one round trip where the server allows it.

The pipeline's writes for one article and the reads for the next share a round
trip: the server runs a connection's commands in the order sent, so the reads
see the writes exactly as if each had been awaited on its own. A cluster spreads
one pipeline over several nodes with no order between them, so there every
command is awaited in turn, as the order the crash-safety of a save relies on
(links, index, story) must hold.

A round trip is a transaction (MULTI/EXEC), so that under maxmemory the server
refuses all of its writes or none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import NoScriptError

Command = tuple[Any, ...]


def script_call(sha: str, keys: Sequence[str], *args: Any) -> Command:
    """An EVALSHA as a raw command (redis-py's cluster pipeline refuses its evalsha())."""
    return ("EVALSHA", sha, len(keys), *keys, *args)


class CommandBatch:
    """Runs lists of commands in order; ``scripts`` (sha → body) are loaded on NOSCRIPT."""

    def __init__(self, client: aioredis.Redis, scripts: Mapping[str, str]) -> None:
        self.client = client
        self.scripts = dict(scripts)
        self.in_turn = isinstance(client, RedisCluster)
        self.round_trips = 0

    async def run(self, commands: Sequence[Command]) -> list[Any]:
        """The replies of ``commands``, run in order; raises the first command error."""
        if not commands:
            return []
        if self.in_turn:
            return [await self._one(command) for command in commands]
        replies = await self._send(commands)
        lost = next((i for i, r in enumerate(replies) if isinstance(r, NoScriptError)), None)
        if lost is not None:
            # The server lost its script cache (restart, SCRIPT FLUSH): load and redo from
            # the first refused call on. What ran after it is redone too, which keeps the
            # order; those are reads and link writes, which a second run leaves as they were.
            await self._load()
            replies[lost:] = await self._send(commands[lost:])
        for reply in replies:
            if isinstance(reply, Exception):
                raise reply
        return replies

    async def _send(self, commands: Sequence[Command]) -> list[Any]:
        self.round_trips += 1
        if len(commands) == 1:
            try:
                return [await self.client.execute_command(*commands[0])]
            except NoScriptError as exc:
                return [exc]
        # A transaction, not a plain pipeline: a write refused for memory does not stop the
        # commands after it in a pipeline, so an article's save could land in part (its
        # story without its link, which a replay would take for someone else's story).
        # In a transaction the server refuses all writes of the round trip or none.
        pipe = self.client.pipeline(transaction=True)
        for command in commands:
            pipe.execute_command(*command)
        return list(await pipe.execute(raise_on_error=False))

    async def _one(self, command: Command) -> Any:
        self.round_trips += 1
        try:
            return await self.client.execute_command(*command)
        except NoScriptError:
            await self._load()
            self.round_trips += 1
            return await self.client.execute_command(*command)

    async def _load(self) -> None:
        for body in self.scripts.values():
            await self.client.script_load(body)
        self.round_trips += len(self.scripts)
