"""Per-user search limits (`RATE_LIMIT`, e.g. 5 searches per 10 s), shared by every front end.

A sliding window per key: a user may make `count` searches in any `window` seconds. Hand-written rather than a
library: it is a dozen lines, needs no storage beyond this process, and the adapters need the wait time to tell
the user when to try again. Memory stays bounded: keys whose window has passed are dropped as others arrive.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable


class RateLimiter:
    def __init__(self, count: int, window: float, *, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = 100_000) -> None:
        if count < 1 or window <= 0:
            raise ValueError("a rate limit needs a positive count and window")
        self.count = count
        self.window = window
        self._clock = clock
        self._max_keys = max_keys
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()

    def check(self, key: str) -> float | None:
        """Record one search by `key` and return None, or, when over the limit, the seconds until the next one
        is allowed (nothing is recorded then, so waiting is enough)."""
        now = self._clock()
        self._forget_idle(now)
        stamps = self._seen.get(key)
        if stamps is None:
            stamps = self._seen[key] = deque()
        while stamps and stamps[0] <= now - self.window:
            stamps.popleft()
        if len(stamps) >= self.count:
            return max(0.0, stamps[0] + self.window - now)
        stamps.append(now)
        self._seen.move_to_end(key)
        return None

    def _forget_idle(self, now: float) -> None:
        """Drop keys idle for a whole window (the least recently active first), and the oldest past `max_keys`."""
        while self._seen:
            key, stamps = next(iter(self._seen.items()))
            if len(self._seen) <= self._max_keys and stamps and stamps[-1] > now - self.window:
                break
            del self._seen[key]
