"""The bundle's copy of every movie's BM25 document vector, for the second stage of a search.

A search's first stage asks each retriever for its best movies; ranking then needs both scores of every
candidate, so the BM25 score of a movie only the dense side found must be computed. Asking the shard for it (a
lexical search restricted to those ids) walks whole posting lists whatever the filter, so its cost grows with the
catalog; this table gives the same scores for just the rows asked, in time that depends on the candidates only
(docs/performance.md).

Files under `lexical/`, written by `LexicalTableWriter` as the builder goes and read memory-mapped: the document
vectors in compressed sparse rows (`indptr.npy`, `terms.npy`, `weights.npy`) and each term's document frequency
(`vocabulary.npy`, sorted, and `frequency.npy`), from which the IDF is computed as Qdrant computes it
(Modifier.Idf).
"""

from __future__ import annotations

import shutil
from array import array
from pathlib import Path
from typing import IO, Any

import numpy as np
from numpy.typing import NDArray

from core.domain import SparseVec

LEXICAL_DIR = "lexical"
_INDPTR = "indptr.npy"
_TERMS = "terms.npy"
_WEIGHTS = "weights.npy"
_VOCABULARY = "vocabulary.npy"
_FREQUENCY = "frequency.npy"
_TERMS_PART = "terms.u32.part"
_WEIGHTS_PART = "weights.f32.part"
_COPY_ITEMS = 1 << 22


class LexicalTableWriter:
    """Appends each movie's BM25 document vector as it comes; `close` writes the table's files."""

    def __init__(self, bundle_dir: Path) -> None:
        self._dir = bundle_dir / LEXICAL_DIR
        self._dir.mkdir()
        self._terms: IO[bytes] = (self._dir / _TERMS_PART).open("wb")
        self._weights: IO[bytes] = (self._dir / _WEIGHTS_PART).open("wb")
        self._indptr = array("q", [0])

    def append(self, vector: SparseVec) -> None:
        terms = np.asarray(vector.indices, dtype=np.uint32)
        weights = np.asarray(vector.values, dtype=np.float32)
        if terms.shape != weights.shape:
            raise ValueError("a sparse vector's indices and values differ in length")
        self._terms.write(terms.tobytes())
        self._weights.write(weights.tobytes())
        self._indptr.append(self._indptr[-1] + len(terms))

    def close(self) -> None:
        """Finish the files: the rows, and the document frequency of every term (sorted by term)."""
        if self._terms.closed:
            return
        self._terms.close()
        self._weights.close()
        items = self._indptr[-1]
        np.save(self._dir / _INDPTR, np.frombuffer(self._indptr, dtype=np.int64))
        npy_from_raw(self._dir / _TERMS_PART, self._dir / _TERMS, np.dtype(np.uint32), (items,))
        npy_from_raw(self._dir / _WEIGHTS_PART, self._dir / _WEIGHTS, np.dtype(np.float32), (items,))
        # A term appears at most once in a document vector, so its count is its document frequency.
        vocabulary, frequency = np.unique(np.load(self._dir / _TERMS, mmap_mode="r"), return_counts=True)
        np.save(self._dir / _VOCABULARY, vocabulary.astype(np.uint32))
        np.save(self._dir / _FREQUENCY, frequency.astype(np.int64))

    def discard(self) -> None:
        self._terms.close()
        self._weights.close()
        shutil.rmtree(self._dir, ignore_errors=True)


class LexicalTable:
    """Exact BM25 scores of given rows. Raises ValueError at open when the files do not describe `count`
    movies, OSError when one is missing."""

    def __init__(self, bundle_dir: Path, count: int) -> None:
        lexical = bundle_dir / LEXICAL_DIR
        self._indptr = _mapped(lexical / _INDPTR)
        self._terms = _mapped(lexical / _TERMS)
        self._weights = _mapped(lexical / _WEIGHTS)
        self._vocabulary = _mapped(lexical / _VOCABULARY)
        self._frequency = _mapped(lexical / _FREQUENCY)
        items = len(self._terms)
        if (self._indptr.shape != (count + 1,) or self._indptr[0] != 0 or self._indptr[-1] != items
                or len(self._weights) != items or len(self._vocabulary) != len(self._frequency)):
            raise ValueError(f"{LEXICAL_DIR}/ does not describe {count} movies")
        self._count = count

    def close(self) -> None:
        """Let go of the mapped files (their pages stay with the kernel until the last reference goes)."""
        for name in ("_indptr", "_terms", "_weights", "_vocabulary", "_frequency"):
            setattr(self, name, np.zeros(0))

    def idf(self, terms: NDArray[np.uint32]) -> NDArray[np.float64]:
        """Qdrant's IDF of each term: ln((N - df + 0.5) / (df + 0.5) + 1)."""
        df = self.frequency(terms)
        return np.log((self._count - df + 0.5) / (df + 0.5) + 1.0)

    def selective(self, query: SparseVec, max_share: float, keep: int) -> SparseVec:
        """`query` without the terms found in more than `max_share` of the movies, but with at least its `keep`
        rarest terms: what the first stage searches with (see `EdgeMovieIndex.retrieve`)."""
        if len(query.indices) <= keep:
            return query
        terms = np.asarray(query.indices, dtype=np.uint32)
        df = self.frequency(terms)
        chosen = df <= max_share * self._count
        if int(chosen.sum()) < keep:
            chosen[np.argsort(df, kind="stable")[:keep]] = True
        if chosen.all():
            return query
        return SparseVec([int(t) for t in terms[chosen]], [v for v, c in zip(query.values, chosen, strict=True) if c])

    def frequency(self, terms: NDArray[np.uint32]) -> NDArray[np.float64]:
        """How many movies hold each term (0 for a term no movie holds)."""
        if len(self._vocabulary) == 0:
            return np.zeros(len(terms))
        at = np.minimum(np.searchsorted(self._vocabulary, terms), len(self._vocabulary) - 1)
        return np.where(self._vocabulary[at] == terms, self._frequency[at], 0).astype(np.float64)

    def lexical(self, rows: NDArray[np.int64], query: SparseVec) -> NDArray[np.float64]:
        """The BM25 score of each row for `query`: the sum over shared terms of query weight x IDF x the
        document's weight, as Qdrant's sparse search with the IDF modifier scores it."""
        if len(rows) == 0 or not query.indices:
            return np.zeros(len(rows))
        q_terms = np.asarray(query.indices, dtype=np.uint32)
        order = np.argsort(q_terms)
        q_terms = q_terms[order]
        q_weights = np.asarray(query.values, dtype=np.float64)[order] * self.idf(q_terms)
        starts = self._indptr[rows]
        lengths = self._indptr[rows + 1] - starts
        total = int(lengths.sum())
        if total == 0:
            return np.zeros(len(rows))
        # Every stored item of the rows in one array: its row's start, moved on by its place in the row.
        owner = np.repeat(np.arange(len(rows)), lengths)
        positions = np.arange(total) + np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
        terms = self._terms[positions]
        # A query has a dozen terms, the rows thousands of items: find the few shared ones, then weigh only those.
        shared = np.flatnonzero(np.isin(terms, q_terms))
        contributions = self._weights[positions[shared]] * q_weights[np.searchsorted(q_terms, terms[shared])]
        scores = np.bincount(owner[shared], weights=contributions, minlength=len(rows)).astype(np.float64)
        return scores


def _mapped(path: Path) -> NDArray[Any]:
    """The .npy file memory-mapped, as a plain array: indexing numpy's memmap subclass costs several times as
    much a call, and a search makes a dozen such calls."""
    mapped: NDArray[Any] = np.load(path, mmap_mode="r").view(np.ndarray)
    return mapped


def npy_from_raw(raw: Path, target: Path, dtype: np.dtype[Any], shape: tuple[int, ...]) -> None:
    """`target` as an .npy file of the values of `dtype` appended to `raw`, copied in blocks of rows (never
    whole in memory); `raw` is removed."""
    if shape[0] == 0:
        np.save(target, np.zeros(shape, dtype=dtype))
    else:
        source = np.memmap(raw, dtype=dtype, mode="r", shape=shape)
        out = np.lib.format.open_memmap(target, mode="w+", dtype=dtype, shape=shape)
        step = max(1, _COPY_ITEMS // max(1, int(np.prod(shape[1:]))))
        for start in range(0, shape[0], step):
            out[start : start + step] = source[start : start + step]
        out.flush()
        del out, source
    raw.unlink()
