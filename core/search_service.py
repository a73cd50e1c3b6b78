"""The search use case: clean the query, encode it, retrieve hybrid candidates, rank, page."""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from core.embedding.batcher import QueryBatcher
from core.embedding.port import TextEncoder
from core.index.port import MovieIndex, RetrievalRequest
from core.models import MovieHit, SearchResults
from core.query_intent import QueryIntent, parse_intent
from core.query_text import MAX_RESULTS, clean_query
from core.ranking import Ranker
from core.sparse import SparseEncoder

logger = logging.getLogger(__name__)

# Per retriever: more ranked no better on the development set and cost more time (docs/performance.md).
CANDIDATES = 60


class SearchService:
    """Implements the `MovieSearch` port. Encoding and index reads run in worker threads, never on the loop.

    Two threads serve searches, pipelined: the batcher's encoder thread, which also ranks a lone query right
    after encoding it (one thread hop per query instead of two), and one ranking thread for queries that were
    encoded in a batch or came from the cache. One ranking thread, not a pool: ranking holds the GIL for most
    of its time, so more threads only contend and each extra one costs a stack and a malloc arena
    (docs/performance.md).
    """

    def __init__(
        self,
        index: MovieIndex,
        encoder: TextEncoder,
        batcher: QueryBatcher,
        ranking: ThreadPoolExecutor,
        *,
        ranker: Ranker | None = None,
        sparse: SparseEncoder | None = None,
        candidates: int = CANDIDATES,
    ) -> None:
        """`ranking` is the one ranking thread, also the batcher's follow-up executor (see core.bootstrap)."""
        self.index = index
        self.encoder = encoder
        self.ranker = ranker or Ranker()
        self.sparse = sparse or SparseEncoder()
        self.candidates = candidates
        self._batcher = batcher
        self._ranking = ranking
        self._closed = False

    async def search(self, query: str, *, limit: int = 5, offset: int = 0) -> SearchResults:
        started = time.perf_counter()
        intent = parse_intent(clean_query(query))
        limit, offset = _clamp(limit, offset)

        def rank(vector: np.ndarray) -> SearchResults:
            return self._rank_page(intent, vector, limit, offset, started)

        return await self._batcher.encode_then(intent.dense_text, rank)

    def search_sync(self, query: str, *, limit: int = 5, offset: int = 0) -> SearchResults:
        """The same path for callers without an event loop (CLI, eval, bench)."""
        started = time.perf_counter()
        intent = parse_intent(clean_query(query))
        limit, offset = _clamp(limit, offset)
        vector = self.encoder.encode([intent.dense_text])[0]
        return self._rank_page(intent, vector, limit, offset, started)

    def _rank_page(
        self, intent: QueryIntent, vector: np.ndarray, limit: int, offset: int, started: float
    ) -> SearchResults:
        request = RetrievalRequest(vector, self.sparse.query(intent.text), self.candidates, intent.year_range)
        # One more than the page, to know whether there is a next page.
        ranked = self.ranker.rank(intent, self.index.retrieve(request), min(offset + limit + 1, MAX_RESULTS))
        page = ranked[offset : offset + limit]
        movies = {m.imdb_id: m for m in self.index.movies([r.imdb_id for r in page])}
        hits = tuple(
            MovieHit(rank=offset + i + 1, movie=movies[r.imdb_id], score=r.score)
            for i, r in enumerate(page)
            if r.imdb_id in movies
        )
        took = (time.perf_counter() - started) * 1000
        return SearchResults(intent.text, hits, took, offset, has_more=offset + limit < len(ranked))

    async def aclose(self) -> None:
        """Stop searching, then close the index once no thread uses it any more."""
        if self._closed:
            return
        self._closed = True
        await self._batcher.aclose()  # returns with the encoder thread idle
        # One worker, first in, first out: the index closes after every ranking already queued.
        await asyncio.get_running_loop().run_in_executor(self._ranking, self.index.close)
        self._ranking.shutdown(wait=False)

    def close(self) -> None:
        """`aclose` for callers without an event loop, once no search is running (CLI, eval, bench)."""
        if self._closed:
            return
        self._closed = True
        self._batcher.shutdown()
        self._ranking.shutdown(wait=True)
        self.index.close()


def _clamp(limit: int, offset: int) -> tuple[int, int]:
    return max(1, min(int(limit), MAX_RESULTS)), max(0, min(int(offset), MAX_RESULTS))
