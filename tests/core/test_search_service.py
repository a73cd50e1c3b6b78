"""SearchService's threads: ranking never on the loop, a lone query in one hop, the index closed last.

The ranking step itself is replaced by a recorder, so these tests hold whatever `_rank_page` does."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, cast

import numpy as np
import pytest

from core.bootstrap import search_service_for
from core.embedding.batcher import BatcherClosed
from core.index.port import MovieIndex
from core.models import SearchResults
from core.query_intent import QueryIntent
from core.search_service import SearchService
from tests.embedding.fake_encoder import FakeEncoder, fake_vector


class FakeIndex:
    def __init__(self) -> None:
        self.closed_after: list[str] = []
        self.closes = 0
        self.ranked: list[str] = []

    def close(self) -> None:
        self.closes += 1
        self.closed_after = list(self.ranked)


class Recorder:
    """Stands in for `_rank_page`: records the thread and query, optionally waits at a gate."""

    def __init__(self, index: FakeIndex, gate: threading.Event | None = None) -> None:
        self.index = index
        self.gate = gate
        self.started = threading.Event()
        self.threads: dict[str, str] = {}

    def __call__(
        self, intent: QueryIntent, vector: np.ndarray, limit: int, offset: int, started: float
    ) -> SearchResults:
        self.started.set()
        if self.gate is not None:
            assert self.gate.wait(10)
        np.testing.assert_array_equal(vector, fake_vector(intent.dense_text))
        self.threads[intent.text] = threading.current_thread().name
        self.index.ranked.append(intent.text)
        return SearchResults(intent.text, (), 0.0, offset, has_more=False)


def make_service(gate: threading.Event | None = None) -> tuple[SearchService, FakeIndex, Recorder]:
    index = FakeIndex()
    service = search_service_for(cast(MovieIndex, index), FakeEncoder())
    recorder = Recorder(index, gate)
    cast(Any, service)._rank_page = recorder
    return service, index, recorder


async def test_a_lone_search_is_encoded_and_ranked_in_one_worker_thread() -> None:
    service, _, recorder = make_service()
    try:
        results = await service.search("astronaut stranded on mars")
    finally:
        await service.aclose()
    assert results.query == "astronaut stranded on mars"
    (thread,) = recorder.threads.values()
    assert thread.startswith("query-encoder")


async def test_concurrent_searches_rank_off_the_loop_on_at_most_two_threads() -> None:
    service, _, recorder = make_service()
    queries = [f"film number {i} about a heist" for i in range(40)]
    try:
        results = await asyncio.gather(*(service.search(q) for q in queries))
    finally:
        await service.aclose()
    assert [r.query for r in results] == queries
    names = set(recorder.threads.values())
    assert threading.current_thread().name not in names
    assert all(n.startswith(("query-encoder", "search-rank")) for n in names)
    assert any(n.startswith("search-rank") for n in names)  # batched queries rank beside the encoder


async def test_aclose_closes_the_index_once_after_the_rankings_in_progress() -> None:
    gate = threading.Event()
    service, index, recorder = make_service(gate)
    try:
        lone = asyncio.create_task(service.search("slow one"))
        assert await asyncio.to_thread(recorder.started.wait, 10)
        closing = asyncio.create_task(service.aclose())
        await asyncio.sleep(0.05)
        assert index.closes == 0
        gate.set()
        await closing
        await service.aclose()
    finally:
        gate.set()
    assert index.closes == 1
    assert index.closed_after == ["slow one"]
    with pytest.raises(BatcherClosed):
        await lone
