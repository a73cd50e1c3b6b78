"""Abuse limits every front end shares: a cap on searches waiting at once, and the per-user limit's wording.

`BoundedSearch` wraps the one search service `movie-bot serve` builds, so Telegram, Discord and the HTTP API
all count against the same cap: past it a search is refused at once with a polite "busy" rather than queued
without bound (each waiting search holds its update, its text and a task until the encoder thread is free).

The per-user limit (`RATE_LIMIT`) is checked by each chat adapter, which knows who is asking. The console chat
is exempt: one person at their own keyboard, searching their own machine.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Coroutine
from typing import Any

from core.errors import MovieBotError
from core.models import SearchResults
from core.rate_limit import RateLimiter
from core.search_port import MovieSearch
from core.settings import RateLimit

logger = logging.getLogger(__name__)

BUSY_MESSAGE = "I'm busy with a lot of searches right now. Please try again in a moment."


class Busy(MovieBotError):
    """Too many searches are already waiting; the user should simply try again shortly."""


class BoundedSearch:
    """A `MovieSearch` that lets at most `max_pending` searches run or wait at once; the next one gets `Busy`.

    Counting is done on the event loop (no lock needed): a search is pending from its call until it returns.
    """

    def __init__(self, inner: MovieSearch, max_pending: int) -> None:
        if max_pending < 1:
            raise ValueError("max_pending must be at least 1")
        self.inner = inner
        self.max_pending = max_pending
        self.pending = 0
        self.refused = 0

    async def search(self, query: str, *, limit: int = 5, offset: int = 0) -> SearchResults:
        return await self._bounded(self.inner.search(query, limit=limit, offset=offset))

    async def similar(self, title: str, *, limit: int = 5, offset: int = 0) -> SearchResults:
        return await self._bounded(self.inner.similar(title, limit=limit, offset=offset))

    async def _bounded(self, work: Coroutine[Any, Any, SearchResults]) -> SearchResults:
        if self.pending >= self.max_pending:
            work.close()  # never started: nothing to cancel
            self.refused += 1
            logger.warning("Search refused: %d searches already pending (MAX_QUEUED_SEARCHES)", self.pending)
            raise Busy(BUSY_MESSAGE)
        self.pending += 1
        try:
            return await work
        finally:
            self.pending -= 1

    async def aclose(self) -> None:
        await self.inner.aclose()


def user_rate_limiter(limit: RateLimit | None) -> RateLimiter | None:
    """The per-user limiter for a front end, or None when `RATE_LIMIT=off`."""
    return None if limit is None else RateLimiter(limit.count, limit.window_seconds)


def slow_down_message(wait_seconds: float) -> str:
    """What a user over the per-user limit is told: that they are not blocked, and when to try again."""
    seconds = max(1, math.ceil(wait_seconds))
    unit = "second" if seconds == 1 else "seconds"
    return f"That's a lot of searches in a short time. Please try again in {seconds} {unit}."
