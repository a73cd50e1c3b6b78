"""Wait out Telegram's flood limits (429 RetryAfter) so replies arrive late rather than never.

A small stand-in for PTB's AIORateLimiter, which needs the optional `aiolimiter` package.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

logger = logging.getLogger(__name__)

JSONResult = bool | dict[str, Any] | list[dict[str, Any]]
# A typing indicator is not worth waiting out a flood limit for: the search and its reply would wait too.
NOT_RETRIED = frozenset({"sendChatAction"})


def retry_delay(error: RetryAfter) -> float:
    """Seconds to wait; PTB gives an int or a timedelta depending on its PTB_TIMEDELTA opt-in."""
    value: int | float | dtm.timedelta = error.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


class RetryOnFlood(BaseRateLimiter[None]):
    """Retry a request after the delay Telegram asks for, a few times, unless the wait is unreasonable.

    Requests in `NOT_RETRIED` fail at once instead; their callers treat them as optional.
    """

    def __init__(self, max_retries: int = 3, max_delay: float = 60.0) -> None:
        self.max_retries = max_retries
        self.max_delay = max_delay

    async def initialize(self) -> None:
        """Nothing to set up: no tokens or buckets are kept."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSONResult]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> JSONResult:
        attempt = 0
        while True:
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                delay = retry_delay(error)
                if endpoint in NOT_RETRIED or attempt >= self.max_retries or delay > self.max_delay:
                    raise
                attempt += 1
                logger.warning("Flood limit on %s: retrying in %.1f s (attempt %d)", endpoint, delay, attempt)
                await asyncio.sleep(delay)
