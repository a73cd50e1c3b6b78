"""The index port: one reader and one builder interface, implemented by Qdrant Edge and Qdrant server.

Types only; the data they carry (candidates, ranking facts, sparse vectors) lives in `core.domain`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from core.domain import Candidates, SparseVec
from core.index.manifest import IndexManifest
from core.models import Movie

DENSE = "dense"
SPARSE = "bm25"


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

    def retrieve(self, request: RetrievalRequest) -> Candidates: ...

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
