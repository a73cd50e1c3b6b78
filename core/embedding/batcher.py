"""Micro-batching of concurrent queries: one model call for the queries that arrive together.

A BERT forward pass over 16 short queries costs far less than 16 passes over one, so under load the bot
answers more queries per second on one or two cores, and the event loop never waits for inference.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor

from core.embedding.port import TextEncoder, Vectors

logger = logging.getLogger(__name__)

_Request = tuple[str, "asyncio.Future[Vectors]"]


class BatcherClosed(RuntimeError):
    """`encode` was called on, or was waiting in, a batcher that has been closed."""


class QueryBatcher:
    """Collects queries for up to `max_wait_ms` (or until `max_batch` wait) and encodes them in one call.

    The default wait is 0: a lone query is encoded at once (a fixed wait would add to every idle query's
    latency), and under load batches form by themselves from the queries that arrive while the encoder runs.

    Encoding runs in one dedicated worker thread, so calls never overlap and never block the event loop.
    A cancelled caller simply drops out of its batch; a failing encode fails only the callers in that batch.
    Repeated query strings are answered from a small LRU cache (`cache_size` entries, 0 to disable).
    Use one batcher per event loop.
    """

    def __init__(
        self, encoder: TextEncoder, max_batch: int = 32, max_wait_ms: float = 0.0, cache_size: int = 256
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._encoder = encoder
        self._max_batch = max_batch
        self._max_wait = max(0.0, max_wait_ms) / 1000.0
        self._cache_size = max(0, cache_size)
        self._cache: OrderedDict[str, Vectors] = OrderedDict()
        self._queue: asyncio.Queue[_Request] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="query-encoder")
        self._closed = False

    async def encode(self, text: str) -> Vectors:
        """The normalized vector of `text`, shape (dim,)."""
        if self._closed:
            raise BatcherClosed("the query batcher is closed")
        cached = self._cache.get(text)
        if cached is not None:
            self._cache.move_to_end(text)
            return cached.copy()
        future: asyncio.Future[Vectors] = asyncio.get_running_loop().create_future()
        self._start()
        assert self._queue is not None
        self._queue.put_nowait((text, future))
        return await future

    async def aclose(self) -> None:
        """Stop the worker; callers still waiting get `BatcherClosed`. An encode already running finishes
        in its thread, but nobody waits for it."""
        if self._closed:
            return
        self._closed = True
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        while self._queue is not None and not self._queue.empty():
            _, future = self._queue.get_nowait()
            _fail(future, BatcherClosed("the query batcher was closed"))
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _start(self) -> None:
        if self._worker is None or self._worker.done():
            if self._queue is None:
                self._queue = asyncio.Queue()
            self._worker = asyncio.create_task(self._run(self._queue), name="query-batcher")

    async def _run(self, queue: asyncio.Queue[_Request]) -> None:
        while True:
            batch = [await queue.get()]
            if queue.qsize() < self._max_batch - 1:
                await asyncio.sleep(self._max_wait)  # let queries arriving right now (this loop tick) join
            while len(batch) < self._max_batch and not queue.empty():
                batch.append(queue.get_nowait())
            await self._process(batch)

    async def _process(self, batch: list[_Request]) -> None:
        live = [(text, future) for text, future in batch if not future.done()]
        if not live:
            return
        texts = list(dict.fromkeys(text for text, _ in live))
        loop = asyncio.get_running_loop()
        try:
            vectors = await loop.run_in_executor(self._executor, self._encode, texts)
        except asyncio.CancelledError:
            for _, future in live:
                _fail(future, BatcherClosed("the query batcher was closed"))
            raise
        except Exception as exc:
            logger.warning("Encoding a batch of %d queries failed: %r", len(texts), exc)
            for _, future in live:
                _fail(future, exc)
            return
        rows = dict(zip(texts, vectors, strict=True))
        for text, row in rows.items():
            self._remember(text, row)
        for text, future in live:
            if not future.done():
                future.set_result(rows[text].copy())

    def _encode(self, texts: list[str]) -> Vectors:
        """Runs in the worker thread."""
        vectors = self._encoder.encode(texts, batch_size=len(texts))
        if vectors.shape != (len(texts), self._encoder.dim):
            raise RuntimeError(f"encoder returned shape {vectors.shape} for {len(texts)} texts")
        return vectors

    def _remember(self, text: str, vector: Vectors) -> None:
        if self._cache_size == 0:
            return
        self._cache[text] = vector.copy()
        self._cache.move_to_end(text)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)


def _fail(future: asyncio.Future[Vectors], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)
