"""The index port: one reader and one builder interface, implemented by Qdrant Edge and Qdrant server."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from core.index.manifest import IndexManifest
from core.models import Movie
from core.sparse import SparseVec

DENSE = "dense"
SPARSE = "bm25"


@dataclass(frozen=True, slots=True)
class Candidate:
    """A movie either retriever proposed, scored by both: cosine (dense) and BM25 (sparse, 0 if no word matches).

    Scoring every candidate in both spaces matters: a film the dense side ranks first but whose words fall
    just outside the sparse top-N would otherwise count as a lexical zero and sink.
    """

    movie: Movie
    dense: float
    sparse: float


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
