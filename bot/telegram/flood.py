"""Outgoing Telegram traffic: PTB's own `AIORateLimiter` (the `rate-limiter` extra) keeps under Telegram's
limits before Telegram complains, and waits out a 429's `retry_after` so a reply arrives late, not never.

Two exceptions: a typing indicator neither waits for the limiter nor is retried, because the search and its
reply would wait behind it (its callers treat it as optional); and a wait longer than `MAX_FLOOD_WAIT` is not
waited out (the reply would come too late to matter, and would hold a handler slot meanwhile): the request
fails with `FloodWaitTooLong` instead.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter, TelegramError
from telegram.ext import AIORateLimiter

JSONResult = bool | dict[str, Any] | list[dict[str, Any]]
# Retries after a 429 before the request fails (and the error handler apologises).
MAX_RETRIES = 3
NOT_LIMITED = frozenset({"sendChatAction"})
MAX_FLOOD_WAIT = 60.0


class FloodWaitTooLong(TelegramError):
    """Telegram asked for a longer wait than `MAX_FLOOD_WAIT`; the request was given up."""


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

        async def within_max_wait(*call_args: Any, **call_kwargs: Any) -> JSONResult:
            try:
                return await callback(*call_args, **call_kwargs)
            except RetryAfter as error:
                wait = error._retry_after.total_seconds()  # the form PTB's own limiter reads
                if wait > MAX_FLOOD_WAIT:
                    raise FloodWaitTooLong(f"Flood control on {endpoint}: asked to wait {wait:.0f} s") from error
                raise

        return await super().process_request(within_max_wait, args, kwargs, endpoint, data, rate_limit_args)
