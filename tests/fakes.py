"""In-memory stand-ins for core ports, for adapter tests (fakes over mocks)."""

from __future__ import annotations

import asyncio
import time

from core.errors import MovieBotError
from core.models import Movie, MovieHit, SearchResults
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

    `fail_with` makes the next searches raise, to drive adapters' error paths; `delay` simulates a slow model.
    """

    def __init__(self, movies: tuple[Movie, ...] = SAMPLE_MOVIES, *, delay: float = 0.0) -> None:
        self.movies = movies
        self.delay = delay
        self.fail_with: BaseException | None = None
        self.calls: list[tuple[str, int, int]] = []
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
        limit = max(1, min(limit, MAX_RESULTS))
        window = ranked[offset: offset + limit] if offset < MAX_RESULTS else []
        best = max(1, len(words))
        hits = tuple(
            MovieHit(rank=offset + i + 1, movie=m, score=round(min(1.0, overlap(m) / best), 4))
            for i, m in enumerate(window)
        )
        has_more = offset + limit < min(len(ranked), MAX_RESULTS)
        return SearchResults(text, hits, (time.perf_counter() - started) * 1000, offset, has_more)

    async def aclose(self) -> None:
        self.closed = True


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

    async def wait_started(self, count: int) -> None:
        async with asyncio.timeout(GUARD_SECONDS):
            while self.started < count:
                self._progress.clear()
                await self._progress.wait()


__all__ = ["SAMPLE_MOVIES", "FakeMovieSearch", "GatedSearch", "MovieBotError"]
