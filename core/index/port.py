"""The index port: one reader and one builder interface, implemented by Qdrant Edge and Qdrant server."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

import numpy as np
from numpy.typing import NDArray

from core.genres import genre_mask
from core.index.manifest import IndexManifest
from core.models import Movie
from core.sparse import SparseVec
from core.text_fold import fold_words

DENSE = "dense"
SPARSE = "bm25"


# What ranking reads of every candidate (see `movie_facts`). Kept small: the full record (overview, genres)
# is fetched only for the page that is shown.
RANKING_FIELDS = ["imdb_id", "title", "year", "director", "cast", "vote_count", "genres"]
# Everything a result shows.
RESULT_FIELDS = ["imdb_id", "title", "year", "overview", "genres", "director", "cast", "vote_count", "popularity"]


class MovieFacts(NamedTuple):
    """What ranking reads of a movie, independent of the query, with titles and names already folded
    (lower case, accents removed): folding them per query was most of ranking's time. Tuples, not sets:
    held for every movie, a small frozenset costs 8x the memory of a tuple."""

    imdb_id: str
    year: int | None
    vote_count: int
    title_line: str  # " jurassic world ": the folded title as it would appear inside a folded query line
    title_length: int  # in words
    names: tuple[str, ...]  # folded full names ("tom hanks"), directors then cast
    surnames: tuple[str, ...]  # the last word of each name, for a quick "is anyone named?" test
    genres: int = 0  # a bit mask (core.genres); 0 in bundles built before genres were kept

    @classmethod
    def of(cls, imdb_id: str, year: int | None, vote_count: int, title_words: Sequence[str],
           names: Iterable[str], genres: int = 0) -> MovieFacts:
        """From stored values; names are interned, as the same people recur across hundreds of films."""
        folded = tuple(sys.intern(n) for n in names)
        surnames = tuple(dict.fromkeys(sys.intern(n.rpartition(" ")[2]) for n in folded))
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


@dataclass(frozen=True, slots=True)
class IndexPoint:
    """What ingest writes for one movie."""

    movie: Movie
    content_hash: str
    dense: np.ndarray
    sparse: SparseVec


@dataclass(frozen=True, slots=True)
class StoredVector:
    """What a builder can reuse from the live index instead of re-embedding."""

    imdb_id: str
    content_hash: str
    dense: np.ndarray


# Films with at least this many votes are well known; see `RetrievalRequest.well_known`.
WELL_KNOWN_VOTES = 1000


@dataclass(frozen=True, slots=True)
class RetrievalRequest:
    """Top `limit` by each retriever; with `year_range`, also the top within those years (a soft hint); with
    `well_known`, also the dense top `well_known` among films of `WELL_KNOWN_VOTES` votes or more.

    Why the last: a famous film's overview is often a line or two ("a young girl gets herself pregnant"), while
    people describe it from what they saw, so among ten thousand films it can fall outside the dense top 60;
    among the thousand well-known ones it does not, and ranking (which weighs popularity) can then place it."""

    dense: np.ndarray
    sparse: SparseVec
    limit: int
    year_range: tuple[int, int] | None = None
    well_known: int = 0


class MovieIndex(Protocol):
    """A read-only, open index. Methods block (they are called from worker threads)."""

    manifest: IndexManifest

    def retrieve(self, request: RetrievalRequest) -> Candidates: ...

    def movies(self, imdb_ids: Sequence[str]) -> list[Movie]:
        """Full records of `imdb_ids`, in that order; ids the index does not hold are left out."""
        ...

    def close(self) -> None: ...

    def dense_vector(self, imdb_id: str) -> NDArray[np.float32] | None:
        """The stored dense vector of one movie ("films like X" searches by it), None if the index lacks it."""
        ...

    def catalog_facts(self) -> Sequence[MovieFacts]:
        """Every movie's ranking facts, for resolving a typed title; loaded once, then held."""
        ...


class IndexBuilder(Protocol):
    """Builds a new index beside the live one; `publish` swaps it in atomically, `abort` throws it away."""

    def stored_vectors(self) -> Iterator[StoredVector]: ...

    def write(self, points: Sequence[IndexPoint]) -> None: ...

    def publish(self, manifest: IndexManifest) -> None: ...

    def abort(self) -> None: ...


def point_id(imdb_id: str) -> str:
    """Deterministic point id, so the same movie keeps its id across builds and backends."""
    import uuid

    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"https://www.imdb.com/title/{imdb_id}/"))


def in_order(imdb_ids: Sequence[str], movies: Iterable[Movie]) -> list[Movie]:
    """`movies` sorted as `imdb_ids` asks (backends return records in their own order)."""
    by_id = {m.imdb_id: m for m in movies}
    return [by_id[i] for i in imdb_ids if i in by_id]
