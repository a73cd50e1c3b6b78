"""The data search works on, shared by ingest, both index backends, ranking and the test fakes.

Plain values and the rules that build them: imports neither Qdrant nor ONNX Runtime, so ranking and the
search service can be read and tested without an index or a model.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from core.genres import genre_mask
from core.models import Movie
from core.text_fold import fold_words

# What ranking reads of every candidate (see `movie_facts`). Kept small: the full record (overview, genres)
# is fetched only for the page that is shown.
RANKING_FIELDS = ["imdb_id", "title", "year", "director", "cast", "vote_count", "genres"]
# Everything a result shows.
RESULT_FIELDS = ["imdb_id", "title", "year", "overview", "genres", "director", "cast", "vote_count", "popularity"]


@dataclass(frozen=True, slots=True)
class SparseVec:
    """A lexical (BM25-style) vector: term ids and their weights (see `core.sparse`)."""

    indices: list[int]
    values: list[float]


class MovieFacts(NamedTuple):
    """What ranking reads of a movie, independent of the query, with titles and names already folded
    (lower case, accents removed): folding them per query was most of ranking's time. Tuples, not sets:
    held for every movie, a small frozenset costs several times the memory of a tuple."""

    imdb_id: str
    year: int | None
    vote_count: int
    title_line: str  # " jurassic world ": the folded title as it would appear inside a folded query line
    title_length: int  # in words
    names: tuple[str, ...]  # folded full names ("tom hanks"), directors then cast
    surnames: tuple[str, ...]  # the last word of each name, for a quick "is anyone named?" test
    genres: int = 0  # a bit mask (core.genres)

    @classmethod
    def of(cls, imdb_id: str, year: int | None, vote_count: int, title_words: Sequence[str],
           names: Iterable[str], genres: int = 0) -> MovieFacts:
        """From stored values; names are interned, as the same people recur across hundreds of films."""
        intern = sys.intern
        folded = tuple([intern(n) for n in names])  # lists, not generators: faster, and this runs per movie
        surnames = tuple(dict.fromkeys([intern(n.rpartition(" ")[2]) for n in folded]))
        return cls(imdb_id, year, vote_count, f" {' '.join(title_words)} ", len(title_words), folded, surnames,
                   genres)

    @property
    def title_words(self) -> list[str]:
        return self.title_line.split()


def movie_facts(payload: dict[str, Any]) -> MovieFacts:
    """Ranking facts from a stored payload (`RANKING_FIELDS`)."""
    year = payload.get("year")
    people = (*payload.get("director", ()), *payload.get("cast", ()))
    names = (" ".join(words) for words in map(fold_words, people) if words)
    return MovieFacts.of(str(payload["imdb_id"]), int(year) if year is not None else None,
                         int(payload.get("vote_count", 0)), fold_words(str(payload.get("title", ""))), names,
                         genre_mask(payload.get("genres", ())))


@dataclass(frozen=True, slots=True)
class Candidates:
    """The movies either retriever proposed, each scored by both: cosine (dense) and BM25 (sparse, 0 if no
    word matches), as arrays so ranking works on all of them at once.

    Scoring every candidate in both spaces matters: a film the dense side ranks first but whose words fall
    just outside the sparse top-N would otherwise count as a lexical zero and sink.
    """

    facts: Sequence[MovieFacts]
    dense: NDArray[np.float64]
    sparse: NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.facts)

    @classmethod
    def of(cls, scored: Sequence[tuple[MovieFacts, float, float]]) -> Candidates:
        """From (facts, dense, sparse) rows."""
        return cls([f for f, _, _ in scored], np.array([d for _, d, _ in scored], dtype=np.float64),
                   np.array([s for _, _, s in scored], dtype=np.float64))


def point_id(imdb_id: str) -> str:
    """Deterministic point id, so the same movie keeps its id across builds and backends."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"https://www.imdb.com/title/{imdb_id}/"))


def in_order(imdb_ids: Sequence[str], movies: Iterable[Movie]) -> list[Movie]:
    """`movies` sorted as `imdb_ids` asks (backends return records in their own order)."""
    by_id = {m.imdb_id: m for m in movies}
    return [by_id[i] for i in imdb_ids if i in by_id]
