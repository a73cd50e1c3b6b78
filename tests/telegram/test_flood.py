"""The flood limiter (PTB's AIORateLimiter) retries a 429 after Telegram's delay, gives up after its retries,
and never waits for a mere typing indicator. The end-to-end case (a 429 on a reply, answered exactly once) is
in test_e2e."""

from __future__ import annotations

from typing import Any

import pytest
from telegram.error import RetryAfter
from telegram.ext import AIORateLimiter

from bot.telegram.flood import MAX_FLOOD_WAIT, MAX_RETRIES, FloodLimiter, FloodWaitTooLong

# PTB 22 warns that `retry_after` will become a timedelta; the limiter already handles both.
pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning")


class FloodedEndpoint:
    """Answers 429 for the first `floods` calls, then succeeds."""

    def __init__(self, floods: int, retry_after: int = 0) -> None:
        self.floods = floods
        self.retry_after = retry_after
        self.calls = 0

    async def __call__(self, *args: Any, **kwargs: Any) -> bool:
        self.calls += 1
        if self.calls <= self.floods:
            raise RetryAfter(self.retry_after)
        return True


async def limited(endpoint: FloodedEndpoint, method: str, limiter: FloodLimiter | None = None) -> Any:
    limiter = limiter or FloodLimiter()
    await limiter.initialize()
    try:
        return await limiter.process_request(endpoint, (), {}, method, {"chat_id": 1001}, None)
    finally:
        await limiter.shutdown()


def test_it_is_ptbs_own_limiter() -> None:
    assert isinstance(FloodLimiter(), AIORateLimiter)


async def test_retries_until_the_request_goes_through() -> None:
    endpoint = FloodedEndpoint(floods=2)
    assert await limited(endpoint, "sendMessage") is True
    assert endpoint.calls == 3


async def test_gives_up_after_max_retries() -> None:
    endpoint = FloodedEndpoint(floods=10)
    with pytest.raises(RetryAfter):
        await limited(endpoint, "sendMessage")
    assert endpoint.calls == MAX_RETRIES + 1


async def test_a_typing_indicator_is_never_waited_for() -> None:
    endpoint = FloodedEndpoint(floods=1, retry_after=30)
    with pytest.raises(RetryAfter):
        await limited(endpoint, "sendChatAction")
    assert endpoint.calls == 1


async def test_does_not_wait_unreasonably_long() -> None:
    endpoint = FloodedEndpoint(floods=1, retry_after=int(MAX_FLOOD_WAIT) * 60)
    with pytest.raises(FloodWaitTooLong):
        await limited(endpoint, "sendMessage")
    assert endpoint.calls == 1
