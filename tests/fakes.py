"""In-memory stand-ins for core ports (fakes over mocks): `FakeMovieSearch` for adapter tests, `FakeMovieIndex`
for testing the search service and ranking without a real index."""

from __future__ import annotations

import asyncio
import dataclasses
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray
from rapidfuzz import fuzz, process

from core.documents import RECIPE_VERSION, dense_text, sparse_text
from core.domain import Candidates, MovieFacts, in_order, movie_facts
from core.embedding.port import TextEncoder
from core.errors import IndexUnavailable, InvalidQuery, MovieBotError
from core.index.manifest import IndexManifest
from core.index.port import WELL_KNOWN_VOTES, RetrievalRequest
from core.models import MatchQuality, Movie, MovieHit, SearchResults
from core.query_text import MAX_RESULTS, clean_query
from core.sparse import SPARSE_RECIPE, SparseEncoder
from tests.embedding.fake_encoder import BagOfWordsEncoder

SAMPLE_MOVIES: tuple[Movie, ...] = (
    Movie("tt3659388", "The Martian", 2015,
          "During a manned mission to Mars, Astronaut Mark Watney is presumed dead after a fierce storm "
          "and left behind by his crew.", ("Drama", "Adventure", "Science Fiction"),
          directors=("Ridley Scott",), cast=("Matt Damon", "Jessica Chastain"), vote_count=4572),
    Movie("tt0816692", "Interstellar", 2014,
          "Interstellar chronicles the adventures of a group of explorers who make use of a newly discovered "
          "wormhole to surpass the limitations on human space travel.", ("Adventure", "Drama", "Science Fiction"),
          directors=("Christopher Nolan",), vote_count=6498),
    Movie("tt1454468", "Gravity", 2013,
          "Dr. Ryan Stone, a brilliant medical engineer on her first Shuttle mission, with veteran astronaut "
          "Matt Kowalsky in command of his last flight before retiring.", ("Science Fiction", "Thriller"),
          vote_count=5003),
    Movie("tt0112384", "Apollo 13", 1995,
          "The true story of technical troubles that scuttle the Apollo 13 lunar mission in 1970, risking "
          "the lives of astronaut Jim Lovell and his crew.", ("Drama", "History"), vote_count=1380),
    Movie("tt0120201", "Starship Troopers", 1997,
          "Set in the future, the story follows a young soldier named Johnny Rico and his exploits in the "
          "Mobile Infantry.", ("Adventure", "Action", "Science Fiction"), vote_count=1350),
    Movie("tt0062622", "2001: A Space Odyssey", 1968,
          "Humanity finds a mysterious object buried beneath the lunar surface and sets off to find its origins "
          "with the help of HAL 9000.", ("Science Fiction", "Mystery"), vote_count=2255),
    Movie("tt0078748", "Alien", 1979,
          "During its return to the earth, commercial spaceship Nostromo intercepts a distress signal.",
          ("Horror", "Action", "Science Fiction"), vote_count=3296),
)


class FakeMovieSearch:
    """Ranks by shared words with title and overview: deterministic, instant, and honest about paging.

    `fail_with` makes the next searches raise, to drive adapters' error paths; `delay` simulates a slow model;
    `quality` is what every page reports, so adapters' honest answers can be driven without a model.
    `similar` resolves a title by IMDb id, exact title or fuzzy match, and ranks the others by shared words.
    """

    def __init__(self, movies: tuple[Movie, ...] = SAMPLE_MOVIES, *, delay: float = 0.0) -> None:
        self.movies = movies
        self.delay = delay
        self.fail_with: BaseException | None = None
        self.calls: list[tuple[str, int, int]] = []
        self.similar_calls: list[tuple[str, int, int]] = []
        self.quality = MatchQuality.GOOD
        self.closed = False
        self.warm_ups = 0

    def warm_up_soon(self) -> None:
        """What `serve` asks of the service it builds; nothing to warm here but the count."""
        self.warm_ups += 1

    async def search(self, query: str, *, limit: int = 5, offset: int = 0) -> SearchResults:
        self.calls.append((query, limit, offset))
        started = time.perf_counter()
        text = clean_query(query)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail_with is not None:
            raise self.fail_with
        words = {w.strip(".,!?").lower() for w in text.split()}

        def overlap(m: Movie) -> int:
            body = f"{m.title} {m.overview}".lower()
            return sum(1 for w in words if w and w in body)

        ranked = sorted(self.movies, key=lambda m: (-overlap(m), m.title))
        return self._page(text, ranked, overlap, len(words), limit, offset, started)

    async def similar(self, title: str, *, limit: int = 5, offset: int = 0) -> SearchResults:
        self.similar_calls.append((title, limit, offset))
        started = time.perf_counter()
        text = clean_query(title)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail_with is not None:
            raise self.fail_with
        source = self._resolve(text)
        words = _words(f"{source.title} {source.overview}")

        def overlap(m: Movie) -> int:
            return len(words & _words(f"{m.title} {m.overview}"))

        others = [m for m in self.movies if m.imdb_id != source.imdb_id]
        ranked = sorted(others, key=lambda m: (-overlap(m), m.title))
        page = self._page(source.title, ranked, overlap, len(words), limit, offset, started)
        return dataclasses.replace(page, similar_to=source)

    def _resolve(self, text: str) -> Movie:
        for movie in self.movies:
            if text == movie.imdb_id or text.casefold() == movie.title.casefold():
                return movie
        titles = {i: m.title.casefold() for i, m in enumerate(self.movies)}
        match = process.extractOne(text.casefold(), titles, scorer=fuzz.WRatio, score_cutoff=80)
        if match is None:
            raise InvalidQuery(f"I could not find a film called “{text}”. Check the title, or describe it "
                               "with /movie.")
        return self.movies[match[2]]

    def _page(self, query: str, ranked: list[Movie], overlap: Callable[[Movie], int], best: int, limit: int,
              offset: int, started: float) -> SearchResults:
        limit = max(1, min(limit, MAX_RESULTS))
        window = ranked[offset: offset + limit] if offset < MAX_RESULTS else []
        best = max(1, best)
        hits = tuple(
            MovieHit(rank=offset + i + 1, movie=m, score=round(min(1.0, overlap(m) / best), 4))
            for i, m in enumerate(window)
        )
        has_more = offset + limit < min(len(ranked), MAX_RESULTS)
        took = (time.perf_counter() - started) * 1000
        return SearchResults(query, hits, took, offset, has_more, quality=self.quality)

    async def aclose(self) -> None:
        self.closed = True


def _words(text: str) -> set[str]:
    return {w.strip(".,!?:;").lower() for w in text.split() if len(w) > 3}


GUARD_SECONDS = 10.0  # a guard against hanging tests, not a speed requirement


class GatedSearch(FakeMovieSearch):
    """Every search waits until `gate` is set; `started` counts the searches that have begun.

    A search "slower than any deadline" without sleeping: the test opens the gate when it has checked what
    must happen while the search runs, so nothing depends on timing.
    """

    def __init__(self, movies: tuple[Movie, ...] = SAMPLE_MOVIES) -> None:
        super().__init__(movies)
        self.gate = asyncio.Event()
        self.started = 0
        self._progress = asyncio.Event()

    async def search(self, query: str, *, limit: int = 5, offset: int = 0) -> SearchResults:
        self.started += 1
        self._progress.set()
        await self.gate.wait()
        return await super().search(query, limit=limit, offset=offset)

    async def similar(self, title: str, *, limit: int = 5, offset: int = 0) -> SearchResults:
        self.started += 1
        self._progress.set()
        await self.gate.wait()
        return await super().similar(title, limit=limit, offset=offset)

    async def wait_started(self, count: int) -> None:
        async with asyncio.timeout(GUARD_SECONDS):
            while self.started < count:
                self._progress.clear()
                await self._progress.wait()


class FakeMovieIndex:
    """The `MovieIndex` port in memory, built like ingest builds an index (the same dense and sparse texts).

    Retrieves as the real backends do: each retriever's top `limit` (brute-force cosine; a BM25-like score over
    the sparse vectors, IDF applied at query time), plus the top `limit // 2` within a year hint, and every
    candidate scored by both. Records what it was asked and on which thread; `gate`, when given, holds each
    retrieval until the test sets it. Closing twice counts twice, and a closed index refuses to answer.
    """

    def __init__(self, movies: Sequence[Movie] = SAMPLE_MOVIES, encoder: TextEncoder | None = None, *,
                 gate: threading.Event | None = None) -> None:
        encoder = encoder or BagOfWordsEncoder()
        self._movies = list(movies)
        self._facts = [movie_facts(m.to_payload()) for m in self._movies]
        self._dense = encoder.encode([dense_text(m) for m in self._movies]).astype(np.float64)
        sparse = SparseEncoder()
        self._sparse = [dict(zip(v.indices, v.values, strict=True))
                        for v in (sparse.document(sparse_text(m)) for m in self._movies)]
        n = len(self._movies)
        df = Counter(term for doc in self._sparse for term in doc)
        self._idf = {term: math.log(1 + (n - k + 0.5) / (k + 0.5)) for term, k in df.items()}
        self.manifest = IndexManifest(encoder.name, encoder.dim, RECIPE_VERSION, SPARSE_RECIPE, n, "fake")
        self.gate = gate
        self.requests: list[RetrievalRequest] = []
        self.threads: list[str] = []
        self.prefetches = 0
        self.retrieving = threading.Event()
        self.closes = 0
        self.retrievals_at_close: list[int] = []
        self._done = 0

    def retrieve(self, request: RetrievalRequest) -> Candidates:
        self._require_open()
        self.requests.append(request)
        self.threads.append(threading.current_thread().name)
        self.retrieving.set()
        if self.gate is not None:
            assert self.gate.wait(GUARD_SECONDS), "test never opened the gate"
        dense = self._dense @ np.asarray(request.dense, dtype=np.float64)
        query = dict(zip(request.sparse.indices, request.sparse.values, strict=True))
        lexical = np.array([sum(w * doc.get(t, 0.0) * self._idf.get(t, 0.0) for t, w in query.items())
                            for doc in self._sparse])
        everything = range(len(self._movies))
        chosen = _top(dense, everything, request.limit) | _top(lexical, everything, request.limit, positive=True)
        if request.year_range is not None:
            low, high = request.year_range
            years = [i for i, m in enumerate(self._movies) if m.year is not None and low <= m.year <= high]
            chosen |= _top(dense, years, request.limit // 2) | _top(lexical, years, request.limit // 2, positive=True)
        if request.well_known:
            known = [i for i, m in enumerate(self._movies) if m.vote_count >= WELL_KNOWN_VOTES]
            chosen |= _top(dense, known, request.well_known)
        self._done += 1
        return Candidates.of([(self._facts[i], float(dense[i]), float(lexical[i])) for i in sorted(chosen)])

    def movies(self, imdb_ids: Sequence[str]) -> list[Movie]:
        self._require_open()
        return in_order(imdb_ids, self._movies)

    def dense_vector(self, imdb_id: str) -> NDArray[np.float32] | None:
        self._require_open()
        rows = [i for i, m in enumerate(self._movies) if m.imdb_id == imdb_id]
        return self._dense[rows[0]].astype(np.float32) if rows else None

    def catalog_facts(self) -> Sequence[MovieFacts]:
        self._require_open()
        return self._facts

    def prefetch(self) -> None:
        self.prefetches += 1

    def close(self) -> None:
        self.closes += 1
        self.retrievals_at_close.append(self._done)

    def _require_open(self) -> None:
        if self.closes:
            raise IndexUnavailable("The fake index is closed.")


def _top(scores: np.ndarray, rows: Sequence[int], limit: int, *, positive: bool = False) -> set[int]:
    """The `limit` best of `rows` by `scores` (ties by row); with `positive`, only rows scoring above 0."""
    ranked = sorted((i for i in rows if not positive or scores[i] > 0), key=lambda i: (-scores[i], i))
    return set(ranked[:limit])


__all__ = ["SAMPLE_MOVIES", "FakeMovieIndex", "FakeMovieSearch", "GatedSearch", "MovieBotError"]
