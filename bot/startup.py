"""Start-up retry for the chat services: an unreachable Bot API or Discord is waited for, not a crash.

A platform restarts a crashed worker only a few times (fly.io's on-fail: 10), so a network blip or an API outage
during a deploy must not end the process. Each adapter retries its first contact with exponential backoff,
logging every attempt, for at most STARTUP_RETRY_SECONDS; then it gives up with a clear error (exit 1), and the
platform's restart policy takes over. A stop signal during the wait ends it at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from core.errors import MovieBotError

logger = logging.getLogger(__name__)

T = TypeVar("T")

FIRST_DELAY_SECONDS = 1.0
MAX_DELAY_SECONDS = 30.0


class StartupTimeout(MovieBotError):
    """A chat service stayed unreachable for the whole start-up budget."""


class Stopped(Exception):
    """The stop signal came while waiting to retry."""


async def retry_at_startup(
    attempt: Callable[[], Awaitable[T]],
    *,
    what: str,
    unreachable: Callable[[BaseException], bool],
    budget_seconds: float,
    stop: asyncio.Event,
    on_retry: Callable[[], None] = lambda: None,
) -> T:
    """`attempt()`'s result; errors for which `unreachable` is true are retried with backoff within the budget.

    Raises Stopped if `stop` is set while waiting, StartupTimeout when the budget is spent, and any other error
    as it is (a rejected token is not a network problem, and waiting would not fix it)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + budget_seconds
    delay = FIRST_DELAY_SECONDS
    attempts = 0
    while True:
        attempts += 1
        try:
            return await attempt()
        except Exception as exc:
            if not unreachable(exc):
                raise
            left = deadline - loop.time()
            if left <= 0:
                raise StartupTimeout(
                    f"{what} was still unreachable after {attempts} attempt(s) in {budget_seconds:g} s "
                    f"(STARTUP_RETRY_SECONDS); last error: {describe(exc)}"
                ) from None
            wait = min(delay, left)
            logger.warning("%s is unreachable (%s); retrying in %.0f s (giving up in %.0f s)",
                           what, describe(exc), wait, left)
            on_retry()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), wait)
            if stop.is_set():
                raise Stopped from None
            delay = min(delay * 2, MAX_DELAY_SECONDS)


def describe(exc: BaseException) -> str:
    """The error's type and message, without a traceback (these are expected conditions, not bugs)."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
