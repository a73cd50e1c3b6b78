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
    """A movie a retriever proposed, with that retriever's raw score (cosine for dense, BM25 for sparse)."""

    movie: Movie
    score: float


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
    dense: np.ndarray
    sparse: SparseVec
    limit: int
    year_range: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class Retrieved:
    dense: list[Candidate]
    sparse: list[Candidate]


class MovieIndex(Protocol):
    """A read-only, open index. Methods block (they are called from worker threads)."""

    manifest: IndexManifest

    def retrieve(self, requests: Sequence[RetrievalRequest]) -> list[Retrieved]: ...

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
