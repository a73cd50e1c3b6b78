"""Outgoing Telegram traffic: PTB's own `AIORateLimiter` (the `rate-limiter` extra) keeps under Telegram's
limits before Telegram complains, and waits out a 429's `retry_after` so a reply arrives late, not never.

One exception: a typing indicator neither waits for the limiter nor is retried, because the search and its
reply would wait behind it; its callers treat it as optional.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram.ext import AIORateLimiter

JSONResult = bool | dict[str, Any] | list[dict[str, Any]]
# Retries after a 429 before the request fails (and the error handler apologises).
MAX_RETRIES = 3
NOT_LIMITED = frozenset({"sendChatAction"})


class FloodLimiter(AIORateLimiter):
    """`AIORateLimiter` with `MAX_RETRIES`, letting `NOT_LIMITED` requests straight through."""

    def __init__(self, max_retries: int = MAX_RETRIES) -> None:
        super().__init__(max_retries=max_retries)

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSONResult]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> JSONResult:
        if endpoint in NOT_LIMITED:
            return await callback(*args, **kwargs)
        return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
