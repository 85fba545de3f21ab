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

import asyncio
import math
from collections.abc import Mapping, Sequence
from typing import Any, cast

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.connection import Connection
from redis.exceptions import ExecAbortError, NoScriptError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

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
        """One round trip: the replies of ``commands``, errors among them as exceptions.

        Written on redis-py's connection rather than its pipeline: the pipeline awaits
        each reply under a timeout of its own (MULTI, every QUEUED, EXEC: seven timers
        for a save and the next lookup) and passes every reply through its callbacks;
        here one timeout bounds the whole round trip. A story save and lookup took
        ~200 µs of client CPU through the pipeline and ~125 µs here
        (2026-11-22, five commands against a local server). Retries on a lost connection
        are the client's, as with its pipeline.
        """
        self.round_trips += 1
        pool = self.client.connection_pool
        conn = await pool.get_connection()
        try:
            return cast(
                list[Any],
                await conn.retry.call_with_retry(
                    lambda: self._exchange(conn, commands), lambda _: conn.disconnect()
                ),
            )
        finally:
            await pool.release(conn)

    async def _exchange(self, conn: Connection, commands: Sequence[Command]) -> list[Any]:
        try:
            async with asyncio.timeout(conn.socket_timeout):
                if len(commands) == 1:
                    await conn.send_packed_command(conn.pack_command(*commands[0]))
                    try:
                        return [await conn.read_response(timeout=math.inf)]
                    except ResponseError as exc:
                        return [exc]
                # A transaction, not a plain pipeline: a write refused for memory does not
                # stop the commands after it in a pipeline, so an article's save could land
                # in part (its story without its link, which a replay would take for someone
                # else's story). In a transaction the server refuses all writes of the round
                # trip or none.
                await conn.send_packed_command(
                    conn.pack_commands([("MULTI",), *commands, ("EXEC",)])
                )
                refused: ResponseError | None = None
                for _ in range(len(commands) + 1):  # MULTI's OK, then QUEUED per command
                    try:
                        await conn.read_response(timeout=math.inf)
                    except ResponseError as exc:
                        refused = refused or exc
                try:
                    replies = await conn.read_response(timeout=math.inf)
                except ExecAbortError:
                    raise refused or ExecAbortError("transaction refused") from None
                return list(replies)
        except TimeoutError:
            # A reply may still be on its way: the connection is out of step.
            await conn.disconnect(nowait=True)
            raise RedisTimeoutError(f"no reply from Redis within {conn.socket_timeout} s") from None

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
