"""The senders' per-target queues: order per target, targets in parallel, stopping."""

from __future__ import annotations

import asyncio
import contextlib

from bot.target_queues import TargetQueues


def msg(n: int, target: str) -> tuple[str, dict[str, str]]:
    return f"{n}-0", {"target": target}


async def test_one_targets_messages_in_order_targets_in_parallel() -> None:
    log: list[str] = []
    gate = asyncio.Event()

    async def handle(msg_id: str, fields: dict[str, str]) -> None:
        log.append(f"start {msg_id}")
        if fields["target"] == "a":
            await gate.wait()  # a blocked target holds up only itself
        log.append(f"end {msg_id}")

    done: list[None] = []
    queues = TargetQueues(handle, on_done=lambda: done.append(None))
    queues.dispatch([msg(1, "a"), msg(2, "a"), msg(3, "b"), msg(1, "a")])  # 1-0 read twice
    assert queues.held == {"1-0", "2-0", "3-0"}
    await queues.wait(timeout=0.2)
    assert log == ["start 1-0", "start 3-0", "end 3-0"]
    gate.set()
    await queues.join()
    assert log[3:] == ["end 1-0", "start 2-0", "end 2-0"]
    assert queues.held == set() and len(done) == 3


async def test_drop_queued_keeps_only_the_messages_begun() -> None:
    gate = asyncio.Event()
    handled: list[str] = []

    async def handle(msg_id: str, fields: dict[str, str]) -> None:
        await gate.wait()
        handled.append(msg_id)

    queues = TargetQueues(handle)
    queues.dispatch([msg(1, "a"), msg(2, "a"), msg(3, "a")])
    await asyncio.sleep(0)  # the worker begins 1-0
    queues.drop_queued()
    assert queues.held == {"1-0"}
    gate.set()
    await queues.wait()
    assert handled == ["1-0"]


async def test_cancel_stops_a_worker_that_lost_one_cancel() -> None:
    """Python 3.11's wait_for, under every redis-py write, can lose a cancel (CPython
    gh-86296): one ``task.cancel()`` does not reliably stop a worker."""
    started = asyncio.Event()
    went_on: list[str] = []

    async def handle(msg_id: str, fields: dict[str, str]) -> None:
        started.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(3600)  # the cancel is lost here...
        await asyncio.sleep(3600)  # ...and the worker would wait, then go on
        went_on.append(msg_id)

    queues = TargetQueues(handle)
    queues.dispatch([msg(1, "a"), msg(2, "a")])
    await started.wait()
    await asyncio.wait_for(queues.cancel(), 5)
    assert went_on == [] and queues.held == {"2-0"}  # 2-0 never begun: still pending
