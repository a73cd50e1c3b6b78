"""The index port: one reader and one builder interface, implemented by Qdrant Edge and Qdrant server."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from core.index.manifest import IndexManifest
from core.models import Movie
from core.sparse import SparseVec

DENSE = "dense"
SPARSE = "bm25"


# What ranking reads of every candidate. Kept small: reading payloads is most of a search's cost in the
# index, so the full record (overview, genres) is fetched only for the page that is shown.
RANKING_FIELDS = ["imdb_id", "title", "year", "director", "cast", "vote_count"]
# Everything a result shows.
RESULT_FIELDS = ["imdb_id", "title", "year", "overview", "genres", "director", "cast", "vote_count", "popularity"]


@dataclass(frozen=True, slots=True)
class Candidate:
    """A movie either retriever proposed, scored by both: cosine (dense) and BM25 (sparse, 0 if no word matches).

    Scoring every candidate in both spaces matters: a film the dense side ranks first but whose words fall
    just outside the sparse top-N would otherwise count as a lexical zero and sink.
    """

    imdb_id: str
    title: str
    year: int | None
    vote_count: int
    people: tuple[str, ...]  # directors, then cast
    dense: float
    sparse: float

    @classmethod
    def from_payload(cls, payload: dict[str, Any], dense: float, sparse: float) -> Candidate:
        return cls(*ranking_facts(payload), dense=dense, sparse=sparse)


# The fields of a Candidate that do not depend on the query, in order: imdb_id, title, year, vote_count, people.
RankingFacts = tuple[str, str, int | None, int, tuple[str, ...]]


def ranking_facts(payload: dict[str, Any]) -> RankingFacts:
    year = payload.get("year")
    return (
        str(payload["imdb_id"]),
        str(payload.get("title", "")),
        int(year) if year is not None else None,
        int(payload.get("vote_count", 0)),
        (*payload.get("director", ()), *payload.get("cast", ())),
    )


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


@dataclass(frozen=True, slots=True)
class RetrievalRequest:
    """Top `limit` by each retriever; with `year_range`, also the top within those years (a soft hint)."""

    dense: np.ndarray
    sparse: SparseVec
    limit: int
    year_range: tuple[int, int] | None = None


class MovieIndex(Protocol):
    """A read-only, open index. Methods block (they are called from worker threads)."""

    manifest: IndexManifest

    def retrieve(self, request: RetrievalRequest) -> list[Candidate]: ...

    def movies(self, imdb_ids: Sequence[str]) -> list[Movie]:
        """Full records of `imdb_ids`, in that order; ids the index does not hold are left out."""
        ...

    def close(self) -> None: ...


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
