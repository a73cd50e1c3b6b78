"""The index port: one reader and one builder interface, implemented by Qdrant Edge and Qdrant server.

Types only; the data they carry (candidates, ranking facts, sparse vectors) lives in `core.domain`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from core.domain import Candidates, MovieFacts, SparseVec
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

    def prefetch(self) -> None:
        """Start reading what searches use into memory, in the background, after a restart: a hint (may do
        nothing), never an error."""
        ...

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
