"""In-memory stand-ins for core ports, for adapter tests (fakes over mocks)."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable

from rapidfuzz import fuzz, process

from core.errors import InvalidQuery, MovieBotError
from core.models import MatchQuality, Movie, MovieHit, SearchResults
from core.query_text import MAX_RESULTS, clean_query

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


__all__ = ["SAMPLE_MOVIES", "FakeMovieSearch", "GatedSearch", "MovieBotError"]
