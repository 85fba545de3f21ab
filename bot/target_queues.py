"""Per-target queues of outbox messages, each worked off by a task of its own.

Both senders (``bot.telegram_sender``, ``bot.webhook_sender``) hand what they read
from their stream to :class:`TargetQueues`: one target's digests go out in order,
different targets in parallel. A message id is *held* from dispatch until its
handler returns, so a message read twice (own pending, a claim) is queued once.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Iterable

Message = tuple[str, dict[str, str]]  # (stream id, fields)
Handler = Callable[[str, dict[str, str]], Awaitable[None]]

# Seconds a cancelled worker has to end before it is cancelled again (see cancel()).
CANCEL_AGAIN_S = 0.05


class TargetQueues:
    """A queue and a worker task per target (the ``target`` field of each message)."""

    def __init__(self, handle: Handler, on_done: Callable[[], None] | None = None) -> None:
        # Called once per message, in the target's order; what it raises ends the worker.
        self.handle = handle
        self._on_done = on_done  # after each message, handled or not
        self.held: set[str] = set()
        self._queues: dict[str, deque[Message]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}

    def dispatch(self, messages: Iterable[Message]) -> None:
        """Queue messages per target, starting a worker for a target that has none."""
        for msg_id, fields in messages:
            if msg_id in self.held:
                continue
            self.held.add(msg_id)
            target = fields.get("target", "")
            self._queues.setdefault(target, deque()).append((msg_id, fields))
            if target not in self._workers:
                self._workers[target] = asyncio.create_task(self._work(target))

    async def _work(self, target: str) -> None:
        queue = self._queues[target]
        try:
            while queue:
                msg_id, fields = queue.popleft()
                try:
                    await self.handle(msg_id, fields)
                finally:
                    self.held.discard(msg_id)
                    if self._on_done is not None:
                        self._on_done()
        finally:
            del self._workers[target]
            if not queue:
                del self._queues[target]

    def drop_queued(self) -> None:
        """Forget the messages no worker has begun (they stay pending in the stream)."""
        for queue in self._queues.values():
            while queue:
                self.held.discard(queue.pop()[0])

    async def wait(self, timeout: float | None = None) -> None:
        """Until every queue is worked off, or ``timeout`` seconds have passed."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while self._workers:
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                break
            await asyncio.wait(list(self._workers.values()), timeout=remaining)

    async def join(self) -> None:
        """Until every queue is worked off; cancelled, the workers are cancelled too."""
        try:
            await self.wait()
        except asyncio.CancelledError:
            await self.cancel()
            raise

    async def cancel(self) -> None:
        """Stop mid-digest, as a crash would: the messages stay pending for a later run.

        Cancelled again until they end: on Python 3.11 one cancel can be lost, as redis-py
        writes under ``asyncio.wait_for``, which swallows a cancel that arrives as the write
        completes (CPython gh-86296); the worker would go on posting its digest.
        """
        tasks = list(self._workers.values())
        pending = set(tasks)
        while pending:
            for task in pending:
                task.cancel()
            _done, pending = await asyncio.wait(pending, timeout=CANCEL_AGAIN_S)
        await asyncio.gather(*tasks, return_exceptions=True)
