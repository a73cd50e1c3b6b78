"""The bundle comparison's alternation and arithmetic, on fake services with known delays."""

from __future__ import annotations

import asyncio

import pytest

from core.models import SearchResults
from scripts.bench.compare_bundles import Comparison, compare


class Delayed:
    def __init__(self, name: str, seconds: float, log: list[tuple[str, str]]) -> None:
        self.name, self.seconds, self.log = name, seconds, log

    async def search(self, query: str, *, limit: int = 5, offset: int = 0) -> SearchResults:
        self.log.append((self.name, query))
        await asyncio.sleep(self.seconds)
        return SearchResults(query, (), 0.0, offset, has_more=False)


async def test_every_query_runs_on_both_and_the_slower_one_shows() -> None:
    log: list[tuple[str, str]] = []
    queries = [f"q{i}" for i in range(6)]
    result = await compare(Delayed("fast", 0.002, log), Delayed("slow", 0.012, log), queries, rounds=2)
    assert len(result.first) == len(result.second) == 12
    assert sorted(log) == sorted([(name, q) for name in ("fast", "slow") for q in queries] * 2)
    # Who goes first alternates, so neither always runs right after the other.
    firsts = [log[i][0] for i in range(0, len(log), 2)]
    assert firsts.count("fast") == firsts.count("slow") == 6
    assert 0.005 < result.difference_ms / 1000 < 0.05
    assert "+" in result.format("fast", "slow").splitlines()[-1]


def test_difference_is_of_the_medians() -> None:
    result = Comparison(first=[1.0, 2.0, 100.0], second=[1.5, 2.5, 3.0])
    assert result.difference_ms == pytest.approx(0.5)
    assert result.format("a", "b").splitlines()[-1] == "difference (second - first): +0.500 ms (+25.0%)"
