"""Micro-batching of concurrent queries: one model call for the queries that arrive together.

Under load, batches form from the queries that arrive while the encoder runs, so the event loop never waits
for inference and each batch costs one thread hand-off instead of one per query. `encode_then` also runs the
caller's next step (ranking) off the loop: a lone query does both in the encoder thread, one round trip
instead of two, which shortens every search (docs/performance.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from core.embedding.port import TextEncoder, Vectors
from core.errors import ShuttingDown

logger = logging.getLogger(__name__)

R = TypeVar("R")


class BatcherClosed(ShuttingDown):
    """`encode` was called on, or was waiting in, a batcher that has been closed."""


@dataclass(slots=True)
class _Request:
    text: str
    future: asyncio.Future[Any]
    then: Callable[[Vectors], Any] | None = None


@dataclass(frozen=True, slots=True)
class _Followed(Generic[R]):
    """What a lone query's future gets when its follow-up already ran in the encoder thread."""

    value: R


class QueryBatcher:
    """Collects queries for up to `max_wait_ms` (or until `max_batch` distinct ones wait); encodes them at once.

    The default wait is 0: a lone query is encoded at once (a fixed wait would add to every idle query's
    latency), and under load batches form by themselves from the queries that arrive while the encoder runs.
    `max_batch` defaults to 32: the encoder packs a batch into few runs (see core.embedding.packing), so a
    larger batch shares each run's fixed cost among more queries; with packing, throughput levels off below 32,
    which leaves room for bursts (docs/performance.md).

    Encoding runs in one dedicated worker thread, so calls never overlap and never block the event loop.
    A cancelled caller simply drops out of its batch; a failing encode fails only the callers in that batch,
    a failing follow-up only its own caller. Repeated query strings are answered from a small LRU cache
    (`cache_size` entries, 0 to disable). Follow-ups of batched or cached queries run on `follow_up` (the
    loop's default executor when None), so the encoder thread goes on to the next batch meanwhile.
    Use one batcher per event loop.
    """

    def __init__(
        self,
        encoder: TextEncoder,
        max_batch: int = 32,
        max_wait_ms: float = 0.0,
        cache_size: int = 256,
        follow_up: Executor | None = None,
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._encoder = encoder
        self._max_batch = max_batch
        self._max_wait = max(0.0, max_wait_ms) / 1000.0
        self._cache_size = max(0, cache_size)
        self._cache: OrderedDict[str, Vectors] = OrderedDict()
        self._follow_up = follow_up
        self._queue: asyncio.Queue[_Request] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="query-encoder")
        self._following: Future[Any] | None = None  # the encoder thread's job, while it runs a follow-up
        self._closed = False

    async def encode(self, text: str) -> Vectors:
        """The normalized vector of `text`, shape (dim,)."""
        cached = self._cached(text)
        if cached is not None:
            return cached
        vector: Vectors = await self._submit(_Request(text, self._new_future()))
        return vector

    async def encode_then(self, text: str, then: Callable[[Vectors], R]) -> R:
        """`then(vector of text)`, computed in a worker thread, never on the loop.

        A query alone in its batch, with none waiting behind it, has `then` run right after its encode in the
        encoder thread; any other, or one from the cache, has it run on the follow-up executor.
        """
        cached = self._cached(text)
        if cached is None:
            outcome = await self._submit(_Request(text, self._new_future(), then))
            if isinstance(outcome, _Followed):
                result: R = outcome.value
                return result
            if self._closed:  # nothing new for the follow-up executor once closing began
                raise BatcherClosed()
            cached = outcome
        return await asyncio.get_running_loop().run_in_executor(self._follow_up, then, cached)

    async def aclose(self) -> None:
        """Stop the worker; callers still waiting get `BatcherClosed`. An encode already running finishes in
        its thread, but nobody waits for it; a follow-up running there is waited for, so the caller may close
        what follow-ups use (the index) once this returns."""
        if self._closed:
            return
        self._closed = True
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        while self._queue is not None and not self._queue.empty():
            _fail(self._queue.get_nowait().future, BatcherClosed())
        if self._following is not None and not self._following.done():
            running = asyncio.wrap_future(self._following)
            await asyncio.wait([running])
            if not running.cancelled():
                running.exception()  # its callers were failed above; only wait for the thread to be idle
        self._executor.shutdown(wait=False, cancel_futures=True)

    def shutdown(self) -> None:
        """Release the encoder thread without an event loop: for a batcher whose loop has ended or never ran."""
        self._closed = True
        self._executor.shutdown(wait=True, cancel_futures=True)

    def _cached(self, text: str) -> Vectors | None:
        if self._closed:
            raise BatcherClosed()
        cached = self._cache.get(text)
        if cached is None:
            return None
        self._cache.move_to_end(text)
        return cached.copy()

    def _new_future(self) -> asyncio.Future[Any]:
        return asyncio.get_running_loop().create_future()

    async def _submit(self, request: _Request) -> Any:
        if self._worker is None or self._worker.done():
            if self._queue is None:
                self._queue = asyncio.Queue()
            self._worker = asyncio.create_task(self._run(self._queue), name="query-batcher")
        assert self._queue is not None
        self._queue.put_nowait(request)
        return await request.future

    async def _run(self, queue: asyncio.Queue[_Request]) -> None:
        while True:
            batch = [await queue.get()]
            if queue.qsize() < self._max_batch - 1:
                await asyncio.sleep(self._max_wait)  # let queries arriving right now (this loop tick) join
            texts = {batch[0].text}
            # `max_batch` counts distinct texts: a repeated one joins for free.
            while len(texts) < self._max_batch and not queue.empty():
                batch.append(queue.get_nowait())
                texts.add(batch[-1].text)
            await self._process(batch, alone=queue.empty())

    async def _process(self, batch: list[_Request], *, alone: bool) -> None:
        live = [request for request in batch if not request.future.done()]
        if not live:
            return
        texts = list(dict.fromkeys(request.text for request in live))
        # A lone query's follow-up runs in the encoder thread too: one hop off the loop instead of two. With
        # others waiting, it goes to the follow-up executor, so the encoder thread moves on to them.
        then = live[0].then if alone and len(live) == 1 else None
        job = self._executor.submit(self._encode, texts, then)
        self._following = job if then is not None else None
        try:
            vectors, followed = await asyncio.wrap_future(job)
        except asyncio.CancelledError:
            for request in live:
                _fail(request.future, BatcherClosed())
            raise
        except Exception as exc:
            logger.warning("Encoding a batch of %d queries failed: %r", len(texts), exc)
            for request in live:
                _fail(request.future, exc)
            return
        rows = dict(zip(texts, vectors, strict=True))
        for text, row in rows.items():
            self._remember(text, row)
        if followed is not None:
            _settle(live[0].future, followed)
            return
        for request in live:
            if not request.future.done():
                request.future.set_result(rows[request.text].copy())

    def _encode(
        self, texts: list[str], then: Callable[[Vectors], Any] | None
    ) -> tuple[Vectors, _Followed[Any] | BaseException | None]:
        """Runs in the worker thread. A failing `then` is returned, not raised: the vectors stay good."""
        vectors = self._encoder.encode(texts, batch_size=len(texts))
        if vectors.shape != (len(texts), self._encoder.dim):
            raise RuntimeError(f"encoder returned shape {vectors.shape} for {len(texts)} texts")
        if then is None:
            return vectors, None
        try:
            return vectors, _Followed(then(vectors[0].copy()))
        except Exception as exc:
            return vectors, exc

    def _remember(self, text: str, vector: Vectors) -> None:
        if self._cache_size == 0:
            return
        self._cache[text] = vector.copy()
        self._cache.move_to_end(text)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)


def _settle(future: asyncio.Future[Any], outcome: _Followed[Any] | BaseException) -> None:
    if future.done():
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


def _fail(future: asyncio.Future[Any], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)
