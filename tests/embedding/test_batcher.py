"""QueryBatcher on a fake encoder: batching, result routing, failures, cancellation, cache, closing, and the
follow-up step that runs after encoding."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from core.embedding.batcher import BatcherClosed, QueryBatcher
from core.embedding.port import Vectors
from tests.embedding.fake_encoder import DIM, FakeEncoder, fake_vector


async def test_concurrent_queries_share_few_encoder_calls_and_get_their_own_vectors() -> None:
    encoder = FakeEncoder()
    batcher = QueryBatcher(encoder, max_batch=32, max_wait_ms=2)
    texts = [f"query number {i}" for i in range(64)]
    try:
        results = await asyncio.gather(*(batcher.encode(t) for t in texts))
    finally:
        await batcher.aclose()
    for text, vec in zip(texts, results, strict=True):
        assert vec.shape == (DIM,)
        assert vec.dtype == np.float32
        np.testing.assert_array_equal(vec, fake_vector(text))
    assert len(encoder.calls) < len(texts)
    assert all(len(call) <= 32 for call in encoder.calls)
    assert sorted(t for call in encoder.calls for t in call) == sorted(texts)


async def test_encoding_runs_off_the_event_loop_thread_in_one_worker() -> None:
    encoder = FakeEncoder()
    batcher = QueryBatcher(encoder, max_batch=4)
    try:
        await asyncio.gather(*(batcher.encode(f"q{i}") for i in range(12)))
    finally:
        await batcher.aclose()
    assert len(encoder.threads) == 1
    assert threading.get_ident() not in encoder.threads


async def test_event_loop_keeps_running_while_an_encode_is_in_progress() -> None:
    gate = threading.Event()
    encoder = FakeEncoder(gate=gate)
    batcher = QueryBatcher(encoder)
    try:
        task = asyncio.create_task(batcher.encode("slow"))
        assert await asyncio.to_thread(encoder.started.wait, 10)
        # The encode is blocked in its thread; the loop still runs other coroutines to completion.
        other = await asyncio.gather(*(asyncio.sleep(0, result=i) for i in range(3)))
        assert other == [0, 1, 2]
        assert not task.done()
        gate.set()
        np.testing.assert_array_equal(await task, fake_vector("slow"))
    finally:
        gate.set()
        await batcher.aclose()


async def test_a_failing_encode_fails_only_its_own_batch() -> None:
    gate = threading.Event()
    encoder = FakeEncoder(fail_on="bad", gate=gate)
    batcher = QueryBatcher(encoder, max_batch=32)
    try:
        first = asyncio.create_task(batcher.encode("first"))
        assert await asyncio.to_thread(encoder.started.wait, 10)
        # These queue up behind the blocked first batch and form the second one.
        second = [asyncio.create_task(batcher.encode(t)) for t in ("bad", "innocent")]
        await asyncio.sleep(0)
        gate.set()
        np.testing.assert_array_equal(await first, fake_vector("first"))
        for task in second:
            with pytest.raises(ValueError, match="cannot encode"):
                await task
        assert encoder.calls == [["first"], ["bad", "innocent"]]
        # The batcher keeps working after a failure.
        np.testing.assert_array_equal(await batcher.encode("later"), fake_vector("later"))
    finally:
        gate.set()
        await batcher.aclose()


async def test_wrong_shape_from_the_encoder_is_an_error_not_a_misrouted_vector() -> None:
    class ShortEncoder(FakeEncoder):
        def encode(self, texts: Sequence[str], batch_size: int = 64) -> Vectors:
            return super().encode(texts, batch_size)[:1]

    batcher = QueryBatcher(ShortEncoder())
    try:
        results = await asyncio.gather(batcher.encode("a"), batcher.encode("b"), return_exceptions=True)
    finally:
        await batcher.aclose()
    assert all(isinstance(r, RuntimeError) for r in results)


async def test_cancelled_callers_drop_out_and_others_still_get_results() -> None:
    gate = threading.Event()
    encoder = FakeEncoder(gate=gate)
    batcher = QueryBatcher(encoder, max_batch=32)
    try:
        in_flight = [asyncio.create_task(batcher.encode(t)) for t in ("a", "b")]
        assert await asyncio.to_thread(encoder.started.wait, 10)
        queued = [asyncio.create_task(batcher.encode(t)) for t in ("c", "d")]
        await asyncio.sleep(0)
        in_flight[0].cancel()  # its batch is already encoding
        queued[0].cancel()  # still waiting in the queue
        gate.set()
        np.testing.assert_array_equal(await in_flight[1], fake_vector("b"))
        np.testing.assert_array_equal(await queued[1], fake_vector("d"))
        for task in (in_flight[0], queued[0]):
            with pytest.raises(asyncio.CancelledError):
                await task
        assert encoder.calls == [["a", "b"], ["d"]]
    finally:
        gate.set()
        await batcher.aclose()


async def test_repeated_queries_come_from_the_cache_and_results_are_private_copies() -> None:
    encoder = FakeEncoder()
    batcher = QueryBatcher(encoder, cache_size=2)
    try:
        first = await batcher.encode("same")
        first[:] = 0.0  # a caller scribbling on its result must not poison the cache
        again = await batcher.encode("same")
        assert encoder.calls == [["same"]]
        np.testing.assert_array_equal(again, fake_vector("same"))
        await batcher.encode("two")
        await batcher.encode("three")  # evicts "same", the least recently used
        await batcher.encode("same")
        assert len(encoder.calls) == 4
    finally:
        await batcher.aclose()


async def test_identical_concurrent_queries_are_encoded_once() -> None:
    encoder = FakeEncoder()
    batcher = QueryBatcher(encoder, cache_size=0)
    try:
        results = await asyncio.gather(*(batcher.encode("dup") for _ in range(5)))
    finally:
        await batcher.aclose()
    assert encoder.calls == [["dup"]]
    for vec in results:
        np.testing.assert_array_equal(vec, fake_vector("dup"))


async def test_cache_can_be_disabled() -> None:
    encoder = FakeEncoder()
    batcher = QueryBatcher(encoder, cache_size=0)
    try:
        await batcher.encode("x")
        await batcher.encode("x")
    finally:
        await batcher.aclose()
    assert encoder.calls == [["x"], ["x"]]


async def test_aclose_fails_waiting_callers_and_refuses_new_ones() -> None:
    gate = threading.Event()
    encoder = FakeEncoder(gate=gate)
    batcher = QueryBatcher(encoder)
    try:
        in_flight = asyncio.create_task(batcher.encode("a"))
        assert await asyncio.to_thread(encoder.started.wait, 10)
        queued = asyncio.create_task(batcher.encode("b"))
        await asyncio.sleep(0)
        await batcher.aclose()
        for task in (in_flight, queued):
            with pytest.raises(BatcherClosed):
                await task
        with pytest.raises(BatcherClosed):
            await batcher.encode("c")
        await batcher.aclose()  # idempotent
    finally:
        gate.set()


def test_max_batch_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_batch"):
        QueryBatcher(FakeEncoder(), max_batch=0)


async def test_a_lone_query_runs_its_follow_up_in_the_encoder_thread() -> None:
    encoder = FakeEncoder()
    follow_up = ThreadPoolExecutor(max_workers=1, thread_name_prefix="follow-up")
    batcher = QueryBatcher(encoder, follow_up=follow_up)
    try:
        threads: list[str] = []

        def then(vector: Vectors) -> float:
            threads.append(threading.current_thread().name)
            return float(vector.sum())

        assert await batcher.encode_then("alone", then) == pytest.approx(float(fake_vector("alone").sum()))
    finally:
        await batcher.aclose()
        follow_up.shutdown()
    assert encoder.calls == [["alone"]]
    assert threads[0].startswith("query-encoder")


async def test_batched_and_cached_queries_run_their_follow_ups_on_the_follow_up_executor() -> None:
    gate = threading.Event()
    encoder = FakeEncoder(gate=gate)
    follow_up = ThreadPoolExecutor(max_workers=1, thread_name_prefix="follow-up")
    batcher = QueryBatcher(encoder, follow_up=follow_up)
    threads: dict[str, str] = {}

    def then_for(text: str) -> Callable[[Vectors], str]:
        def then(vector: Vectors) -> str:
            np.testing.assert_array_equal(vector, fake_vector(text))
            threads[text] = threading.current_thread().name
            return text.upper()

        return then

    try:
        first = asyncio.create_task(batcher.encode("first"))
        assert await asyncio.to_thread(encoder.started.wait, 10)
        batched = [asyncio.create_task(batcher.encode_then(t, then_for(t))) for t in ("a", "b", "c")]
        await asyncio.sleep(0)
        gate.set()
        await first
        assert await asyncio.gather(*batched) == ["A", "B", "C"]
        assert await batcher.encode_then("a", then_for("a")) == "A"  # from the cache
    finally:
        gate.set()
        await batcher.aclose()
        follow_up.shutdown()
    assert encoder.calls == [["first"], ["a", "b", "c"]]
    assert all(name.startswith("follow-up") for name in threads.values())
    assert set(threads) == {"a", "b", "c"}


async def test_a_failing_follow_up_fails_only_its_caller_and_the_vector_stays_cached() -> None:
    encoder = FakeEncoder()
    batcher = QueryBatcher(encoder)

    def broken(vector: Vectors) -> None:
        raise LookupError("ranking failed")

    try:
        with pytest.raises(LookupError, match="ranking failed"):
            await batcher.encode_then("query", broken)
        np.testing.assert_array_equal(await batcher.encode("query"), fake_vector("query"))
        assert await batcher.encode_then("other", lambda v: v.shape) == (DIM,)
    finally:
        await batcher.aclose()
    assert encoder.calls == [["query"], ["other"]]


async def test_a_caller_cancelled_during_its_follow_up_leaves_the_batcher_working() -> None:
    started, release = threading.Event(), threading.Event()
    batcher = QueryBatcher(FakeEncoder())

    def slow(vector: Vectors) -> str:
        started.set()
        assert release.wait(10)
        return "late"

    try:
        task = asyncio.create_task(batcher.encode_then("slow", slow))
        assert await asyncio.to_thread(started.wait, 10)
        task.cancel()
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await batcher.encode_then("next", lambda v: "ok") == "ok"
    finally:
        release.set()
        await batcher.aclose()


async def test_aclose_returns_only_once_a_follow_up_in_the_encoder_thread_has_finished() -> None:
    started, release = threading.Event(), threading.Event()
    finished: list[bool] = []
    batcher = QueryBatcher(FakeEncoder())

    def slow(vector: Vectors) -> None:
        started.set()
        assert release.wait(10)
        finished.append(True)

    task = asyncio.create_task(batcher.encode_then("slow", slow))
    try:
        assert await asyncio.to_thread(started.wait, 10)
        closing = asyncio.create_task(batcher.aclose())
        await asyncio.sleep(0.05)
        assert not closing.done()  # still waiting for the thread
        release.set()
        await closing
        assert finished == [True]
        with pytest.raises(BatcherClosed):
            await task
    finally:
        release.set()
        await batcher.aclose()


async def test_a_batch_of_one_with_queries_waiting_hands_its_follow_up_over() -> None:
    gate = threading.Event()
    encoder = FakeEncoder(gate=gate)
    follow_up = ThreadPoolExecutor(max_workers=1, thread_name_prefix="follow-up")
    batcher = QueryBatcher(encoder, max_batch=1, follow_up=follow_up)
    threads: dict[str, str] = {}

    def record(text: str) -> Callable[[Vectors], None]:
        return lambda vector: threads.__setitem__(text, threading.current_thread().name)

    try:
        first = asyncio.create_task(batcher.encode_then("a", record("a")))
        assert await asyncio.to_thread(encoder.started.wait, 10)
        rest = [asyncio.create_task(batcher.encode_then(t, record(t))) for t in ("b", "c")]
        await asyncio.sleep(0)
        gate.set()
        await asyncio.gather(first, *rest)
    finally:
        gate.set()
        await batcher.aclose()
        follow_up.shutdown()
    assert encoder.calls == [["a"], ["b"], ["c"]]
    # "a" and "c" were alone when their batch formed; "b" had "c" waiting behind it.
    assert threads["a"].startswith("query-encoder") and threads["c"].startswith("query-encoder")
    assert threads["b"].startswith("follow-up")
