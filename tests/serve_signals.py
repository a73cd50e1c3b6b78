"""Run `movie-bot serve`'s adapter loop in the test's own process and stop it with a real signal."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator

from bot import serve
from core.settings import Settings
from tests.fakes import GUARD_SECONDS


@contextlib.asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[asyncio.Task[int]]:
    """serve's loop as a task; stopped through its own stop event if the test ends before it does."""
    stop = asyncio.Event()  # serve's own stop event, set by its signal handlers
    running = asyncio.create_task(serve.run_adapters(settings, stop))
    try:
        yield running
    finally:
        stop.set()  # when a check failed: shut down instead of leaving the bot running
        async with asyncio.timeout(GUARD_SECONDS):
            await asyncio.wait({running})


async def send_and_wait(running: asyncio.Task[int], signum: signal.Signals) -> int:
    """Signal this process as a deploy would, and return serve's exit code."""
    # Without serve's handler the signal would end the test run, so check it is there first.
    assert signal.getsignal(signum) not in (signal.SIG_DFL, signal.default_int_handler)
    os.kill(os.getpid(), signum)
    async with asyncio.timeout(GUARD_SECONDS):
        return await running
