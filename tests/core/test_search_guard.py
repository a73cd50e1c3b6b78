"""The shared cap on pending searches answers "busy" past it and recovers; the per-user limit's wording."""

from __future__ import annotations

import asyncio

import pytest

from core.errors import IndexUnavailable
from core.search_guard import BUSY_MESSAGE, BoundedSearch, Busy, slow_down_message, user_rate_limiter
from core.settings import RateLimit
from tests.fakes import FakeMovieSearch, GatedSearch


async def test_past_the_cap_a_search_is_refused_politely_and_the_others_finish() -> None:
    gated = GatedSearch()
    bounded = BoundedSearch(gated, max_pending=2)
    waiting = [asyncio.create_task(bounded.search("astronaut on Mars")) for _ in range(2)]
    await gated.wait_started(2)

    with pytest.raises(Busy) as refused:
        await bounded.search("lunar mission")
    assert refused.value.user_message == BUSY_MESSAGE
    assert gated.started == 2 and bounded.refused == 1

    gated.gate.set()
    results = await asyncio.gather(*waiting)
    assert all(r.hits[0].movie.title == "The Martian" for r in results)
    assert bounded.pending == 0
    assert (await bounded.search("lunar mission")).hits  # room again


async def test_failed_searches_free_their_place() -> None:
    fake = FakeMovieSearch()
    fake.fail_with = IndexUnavailable("down")
    bounded = BoundedSearch(fake, max_pending=1)
    for _ in range(3):
        with pytest.raises(IndexUnavailable):
            await bounded.search("astronaut")
    assert bounded.pending == 0 and bounded.refused == 0


async def test_closing_closes_the_wrapped_search() -> None:
    fake = FakeMovieSearch()
    await BoundedSearch(fake, 4).aclose()
    assert fake.closed


def test_the_wait_is_said_in_whole_seconds_never_zero() -> None:
    assert slow_down_message(0.2).endswith("try again in 1 second.")
    assert slow_down_message(7.01).endswith("try again in 8 seconds.")


def test_rate_limit_off_means_no_limiter() -> None:
    assert user_rate_limiter(None) is None
    limiter = user_rate_limiter(RateLimit(2, 10.0))
    assert limiter is not None and limiter.count == 2 and limiter.window == 10.0


async def test_similar_counts_against_the_same_cap() -> None:
    inner = GatedSearch()
    bounded = BoundedSearch(inner, max_pending=1)
    waiting = asyncio.create_task(bounded.search("astronaut on Mars"))
    await inner.wait_started(1)
    with pytest.raises(Busy):
        await bounded.similar("The Martian")
    inner.gate.set()
    await waiting
    assert (await bounded.similar("The Martian")).similar_to is not None
