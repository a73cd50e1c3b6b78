from __future__ import annotations

import pytest

from core.rate_limit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_sixth_search_in_ten_seconds_waits_until_the_first_leaves_the_window() -> None:
    clock = Clock()
    limiter = RateLimiter(5, 10, clock=clock)
    for step in range(5):
        clock.now = 1000.0 + step
        assert limiter.check("alice") is None
    clock.now = 1006.0
    assert limiter.check("alice") == pytest.approx(4.0)
    assert limiter.check("bob") is None  # limits are per user
    clock.now = 1010.0
    assert limiter.check("alice") is None  # the search at 1000 has left the window


def test_a_refused_search_is_not_counted() -> None:
    clock = Clock()
    limiter = RateLimiter(1, 10, clock=clock)
    assert limiter.check("alice") is None
    for _ in range(100):
        assert limiter.check("alice") is not None
    clock.now += 10
    assert limiter.check("alice") is None


def test_memory_stays_bounded_by_active_users() -> None:
    clock = Clock()
    limiter = RateLimiter(5, 10, clock=clock, max_keys=50)
    for user in range(1000):
        limiter.check(str(user))
    assert len(limiter._seen) <= 51
    clock.now += 11
    limiter.check("late")
    assert len(limiter._seen) == 1


def test_nonsense_limits_are_refused() -> None:
    with pytest.raises(ValueError):
        RateLimiter(0, 10)

