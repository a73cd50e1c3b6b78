"""The flood limiter retries after Telegram's delay, and gives up when asked to wait too often or too long,
or at once for a mere typing indicator."""

from __future__ import annotations

from typing import Any

import pytest
from telegram.error import RetryAfter

from bot.telegram.flood import RetryOnFlood

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


async def test_retries_until_the_request_goes_through() -> None:
    endpoint = FloodedEndpoint(floods=2)
    result = await RetryOnFlood(max_retries=3).process_request(endpoint, (), {}, "sendMessage", {}, None)
    assert result is True and endpoint.calls == 3


async def test_gives_up_after_max_retries() -> None:
    endpoint = FloodedEndpoint(floods=10)
    with pytest.raises(RetryAfter):
        await RetryOnFlood(max_retries=2).process_request(endpoint, (), {}, "sendMessage", {}, None)
    assert endpoint.calls == 3


async def test_does_not_wait_unreasonably_long() -> None:
    endpoint = FloodedEndpoint(floods=1, retry_after=3600)
    with pytest.raises(RetryAfter):
        await RetryOnFlood(max_delay=60).process_request(endpoint, (), {}, "sendMessage", {}, None)
    assert endpoint.calls == 1


async def test_a_typing_indicator_is_never_waited_for() -> None:
    endpoint = FloodedEndpoint(floods=1, retry_after=1)
    with pytest.raises(RetryAfter):
        await RetryOnFlood().process_request(endpoint, (), {}, "sendChatAction", {}, None)
    assert endpoint.calls == 1
