"""The search use case: clean the query, encode it, retrieve hybrid candidates, rank, page."""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace

import numpy as np

from core.domain import Candidates
from core.embedding.batcher import QueryBatcher
from core.embedding.port import KnowsWords, TextEncoder
from core.errors import InvalidQuery, ShuttingDown
from core.genres import genre_mask
from core.index.port import MovieIndex, RetrievalRequest
from core.models import MatchQuality, Movie, MovieHit, SearchResults
from core.query_intent import QueryIntent, parse_intent, similar_title
from core.query_text import MAX_RESULTS, clean_query
from core.query_trust import match_quality, unreadable_script
from core.ranking import Ranked, Ranker
from core.sparse import SparseEncoder
from core.spelling import Speller
from core.title_match import TitleIndex, TitleMatch

logger = logging.getLogger(__name__)

# Per retriever: more ranked no better on the development set and cost more time (docs/performance.md).
CANDIDATES = 60
# Also this many of the closest well-known films (see RetrievalRequest.well_known).
WELL_KNOWN_CANDIDATES = 20
# "movies like X" inside a search is answered as /similar only when X is this close to a title (0-100).
IMPLICIT_LIKE_SCORE = 83.0
# A query this short may be a title, typed with a typo: it is looked up among the titles too.
TITLE_QUERY_WORDS = 6
# What `warm_up` searches for, in the styles people use (a plot, a decade, a misspelled title, "movies like",
# a genre), each through the whole path, twice: the first searches of a fresh process were the slowest.
WARM_UP_QUERIES = (
    "a crew of thieves plans one last heist of a casino vault",
    "90s comedy about a pet detective looking for a stolen dolphin",
    "jurasic park",
    "movies like the matrix",
    "animated film about toys that come alive when nobody is watching",
    "an astronaut stranded alone on another planet has to survive until a rescue comes",
)
WARM_UP_PASSES = 2


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
        well_known: int = WELL_KNOWN_CANDIDATES,
    ) -> None:
        """`ranking` is the one ranking thread, also the batcher's follow-up executor (see core.bootstrap)."""
        self.index = index
        self.encoder = encoder
        self.ranker = ranker or Ranker()
        self.sparse = sparse or SparseEncoder()
        self.candidates = candidates
        self.well_known = well_known
        self._batcher = batcher
        self._ranking = ranking
        self._closed = False
        self._titles: TitleIndex | None = None
        self._titles_lock = threading.Lock()
        self._speller: Speller | None = None
        self._speller_lock = threading.Lock()
        self._speller_tried = False
        self._warming: Future[None] | None = None

    def intent_for(self, text: str) -> QueryIntent:
        """What a cleaned query asks for, typos repaired (building the speller if need be): for callers without an
        event loop (CLI, eval, the fit)."""
        return self._intent(text, self.speller())

    @staticmethod
    def _intent(text: str, speller: Speller | None) -> QueryIntent:
        """What the query asks for; with a speller, the dense text has its typos repaired and the lexical text
        gains the repaired words (keeping the typed ones, in case the catalog knows a word the speller does not).
        Names and titles are still matched on `text` as typed."""
        intent = parse_intent(text)
        if speller is None:
            return intent
        fixed, added = speller.repair(text)
        if not added:
            return intent
        return replace(parse_intent(fixed), text=text, lexical=f"{intent.lexical_text} {' '.join(added)}")

    def speller(self) -> Speller | None:
        """The typo repairer: the encoder's vocabulary and the catalog's title and name words; built on first use
        (in a worker thread), then held. None when the encoder cannot list its words, or when building it failed
        (logged once: searches go on without typo repair)."""
        if not isinstance(self.encoder, KnowsWords):
            return None
        with self._speller_lock:
            if not self._speller_tried:
                self._speller_tried = True
                try:
                    self._speller = Speller(itertools.chain(self.encoder.vocabulary(), _catalog_words(self.index)))
                except Exception as exc:
                    logger.warning("typo repair is off: the speller could not be built (%s: %s)",
                                   type(exc).__name__, exc)
            return self._speller

    def warm_up(self) -> None:
        """Pay what a fresh process pays on first use before users do: have the index read its files ahead
        (after a restart they are on disk only), build the speller and the title index (otherwise built in the
        middle of someone's search) and run `WARM_UP_QUERIES` through the whole path (the encoder's first runs,
        the interpreter's first passes over each step).
        A failure is logged, never raised: searches work unwarmed."""
        started = time.perf_counter()
        try:
            self.index.prefetch()  # first: the kernel reads ahead while the rest is built
        except Exception as exc:
            logger.warning("could not read the index ahead (%s: %s)", type(exc).__name__, exc)
        self.speller()
        try:
            self.title_index()
            for query in WARM_UP_QUERIES * WARM_UP_PASSES:
                if self._closed:
                    return
                self.search_sync(query)
        except Exception as exc:
            logger.warning("warm-up stopped early (%s: %s); searches go on unwarmed", type(exc).__name__, exc)
            return
        logger.info("warmed up in %.0f ms", (time.perf_counter() - started) * 1000)

    def warm_up_soon(self) -> Future[None] | None:
        """Start `warm_up` on the ranking thread, once; its job (None once closing began). A search answered
        before it starts does not wait for it: the first search starts it, after its answer."""
        if self._warming is None and not self._closed:
            self._warming = self._ranking.submit(self.warm_up)
        return self._warming

    async def warmed(self) -> None:
        """Returns once the warm-up has run, starting it if need be (for a benchmark's steady state)."""
        job = self.warm_up_soon()
        if job is not None:
            await asyncio.wrap_future(job)

    async def search(self, query: str, *, limit: int = 5, offset: int = 0) -> SearchResults:
        started = time.perf_counter()
        # The speller only once built (by the warm-up): no search waits for it.
        intent = self._intent(clean_query(query), self._speller)
        limit, offset = _clamp(limit, offset)

        def rank(vector: np.ndarray) -> SearchResults:
            return self._answer(intent, vector, limit, offset, started)

        results = await self._batcher.encode_then(intent.dense_text, rank)
        self.warm_up_soon()
        return results

    async def similar(self, title: str, *, limit: int = 5, offset: int = 0) -> SearchResults:
        """Films like the one `title` names (resolved even when misspelled), that film itself left out. Raises
        `InvalidQuery` when no film in the catalog matches `title` well enough."""
        started = time.perf_counter()
        text = clean_query(title)
        limit, offset = _clamp(limit, offset)
        if self._closed:
            raise ShuttingDown()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._ranking, self.similar_sync_at, text, limit, offset, started)

    def similar_sync(self, title: str, *, limit: int = 5, offset: int = 0) -> SearchResults:
        """`similar` for callers without an event loop (CLI, eval)."""
        started = time.perf_counter()
        limit, offset = _clamp(limit, offset)
        return self.similar_sync_at(clean_query(title), limit, offset, started)

    def similar_sync_at(self, text: str, limit: int, offset: int, started: float) -> SearchResults:
        match = self.title_index().resolve(text)
        if match is None:
            raise InvalidQuery(
                f"No film in the catalog has a title like \u201c{text[:80]}\u201d. Check the spelling, "
                "or describe the film instead."
            )
        return self._similar_page(text, match, limit, offset, started)

    def search_sync(self, query: str, *, limit: int = 5, offset: int = 0) -> SearchResults:
        """The same path for callers without an event loop (CLI, eval, bench)."""
        started = time.perf_counter()
        intent = self.intent_for(clean_query(query))
        limit, offset = _clamp(limit, offset)
        vector = self.encoder.encode([intent.dense_text])[0]
        return self._answer(intent, vector, limit, offset, started)

    def title_index(self) -> TitleIndex:
        """Every title, folded for fuzzy lookup; built on first use (in a worker thread), then held."""
        with self._titles_lock:
            if self._titles is None:
                self._titles = TitleIndex(self.index.catalog_facts())
            return self._titles

    def candidates_for(self, intent: QueryIntent, vector: np.ndarray) -> tuple[Candidates, frozenset[str]]:
        """What ranking sees of a query: the retrievers' candidates, plus a film whose title a short query
        names with a typo ("jurasic park") when no retriever found it; and the ids of titles so named."""
        request = RetrievalRequest(vector, self.sparse.query(intent.lexical_text), self.candidates, intent.year_range,
                                   self.well_known)
        candidates = self.index.retrieve(request)
        if len(intent.text.split()) > TITLE_QUERY_WORDS:
            return candidates, frozenset()
        match = self.title_index().resolve(intent.text)
        if match is None:
            return candidates, frozenset()
        named = match.facts.imdb_id
        if all(f.imdb_id != named for f in candidates.facts):
            stored = self.index.dense_vector(named)
            cosine = 0.0 if stored is None else float(np.dot(stored, vector) / (
                (np.linalg.norm(stored) * np.linalg.norm(vector)) or 1.0))
            candidates = Candidates([*candidates.facts, match.facts], np.append(candidates.dense, cosine),
                                    np.append(candidates.sparse, 0.0))
        return candidates, frozenset((named,))

    def _answer(self, intent: QueryIntent, vector: np.ndarray, limit: int, offset: int,
                started: float) -> SearchResults:
        like = similar_title(intent.text)
        if like is not None:
            # Stricter than /similar: here the words after "like" may be a description ("more like a thriller").
            match = self.title_index().resolve(like, min_score=IMPLICIT_LIKE_SCORE)
            if match is not None:
                return self._similar_page(intent.text, match, limit, offset, started)
        return self._rank_page(intent, vector, limit, offset, started)

    def _rank_page(
        self, intent: QueryIntent, vector: np.ndarray, limit: int, offset: int, started: float
    ) -> SearchResults:
        candidates, titled = self.candidates_for(intent, vector)
        # One more than the page, to know whether there is a next page.
        ranked = self.ranker.rank(intent, candidates, min(offset + limit + 1, MAX_RESULTS), titled)
        if unreadable_script(intent.text):
            quality = MatchQuality.UNREADABLE
        else:
            quality = match_quality(float(candidates.dense.max()) if len(candidates) else 0.0, bool(titled))
        return self._page(intent.text, ranked, limit, offset, started, quality=quality)

    def _similar_page(self, query: str, match: TitleMatch, limit: int, offset: int,
                      started: float) -> SearchResults:
        """Neighbours of the film by its own stored vector; its keywords and genres steer the lexical side, its
        director the names, its genres the genre signal. The film itself is left out."""
        imdb_id = match.facts.imdb_id
        found = self.index.movies([imdb_id])
        vector = self.index.dense_vector(imdb_id)
        if not found or vector is None:
            raise InvalidQuery("That film is in the catalog but its details cannot be read right now. Try again later.")
        film = found[0]
        words = " ".join([*film.keywords, *film.genres, *film.directors])
        intent = QueryIntent(text=words, plot=words, genres=genre_mask(film.genres))
        request = RetrievalRequest(vector, self.sparse.query(words), self.candidates)
        want = min(offset + limit + 2, MAX_RESULTS + 1)
        ranked = [r for r in self.ranker.rank(intent, self.index.retrieve(request), want) if r.imdb_id != imdb_id]
        return self._page(query, ranked[:MAX_RESULTS], limit, offset, started, similar_to=film)

    def _page(self, query: str, ranked: list[Ranked], limit: int, offset: int, started: float, *,
              quality: MatchQuality = MatchQuality.GOOD, similar_to: Movie | None = None) -> SearchResults:
        page = ranked[offset : offset + limit]
        movies = {m.imdb_id: m for m in self.index.movies([r.imdb_id for r in page])}
        hits = tuple(
            MovieHit(rank=offset + i + 1, movie=movies[r.imdb_id], score=r.score)
            for i, r in enumerate(page)
            if r.imdb_id in movies
        )
        took = (time.perf_counter() - started) * 1000
        return SearchResults(query, hits, took, offset, has_more=offset + limit < len(ranked), quality=quality,
                             similar_to=similar_to)

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


def _catalog_words(index: MovieIndex) -> Iterator[str]:
    """The words of every title and name, each once, in catalog order."""
    return iter(dict.fromkeys(w for f in index.catalog_facts() for text in (f.title_line, *f.names)
                              for w in text.split()))


def _clamp(limit: int, offset: int) -> tuple[int, int]:
    return max(1, min(int(limit), MAX_RESULTS)), max(0, min(int(offset), MAX_RESULTS))
