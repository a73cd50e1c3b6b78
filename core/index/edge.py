"""Qdrant Edge: the Qdrant engine in-process, the default embedded backend."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
from numpy.typing import NDArray
from qdrant_edge import (
    BinaryQuantizationConfig,
    CountRequest,
    Distance,
    EdgeConfig,
    EdgeShard,
    EdgeSparseVectorParams,
    EdgeVectorParams,
    FieldCondition,
    Filter,
    HasIdCondition,
    HnswIndexConfig,
    Memory,
    Modifier,
    PayloadSchemaType,
    Point,
    QuantizationSearchParams,
    Query,
    QueryBatchRequest,
    QueryRequest,
    RangeFloat,
    ScalarQuantizationConfig,
    ScalarType,
    SearchParams,
    SparseVector,
    UpdateOperation,
)

from core.domain import Candidates, MovieFacts, SparseVec, movie_facts
from core.errors import IndexUnavailable
from core.index.bundle import BundleStore
from core.index.facts_file import FACTS_FILE, FACTS_HEAD, FACTS_TAIL, ROW_SEPARATOR, FactsTable, damaged
from core.index.lexical_table import LEXICAL_DIR, LexicalTable, LexicalTableWriter, npy_from_raw
from core.index.manifest import IndexManifest
from core.index.port import DENSE, SPARSE, WELL_KNOWN_VOTES, IndexPoint, RetrievalRequest, StoredVector
from core.index.records import RECORDS_FILE, RecordsFile, RecordsWriter
from core.models import Movie

logger = logging.getLogger(__name__)

SHARD_DIR = "shard"
VECTORS_FILE = "vectors.npy"
VECTOR_KEYS_FILE = "vectors.json"
UPSERT_BATCH = 512
# The builder appends the float32 vectors here as they come and turns them into VECTORS_FILE at publish.
_VECTORS_PART = "vectors.f32.part"


# Qdrant's defaults. The full-scan threshold is the KB of vectors a filter must select before a filtered
# search walks the graph instead of scanning every selected vector (see `_config`).
HNSW_M = 16
HNSW_EF_CONSTRUCT = 100
FULL_SCAN_THRESHOLD_KB = 10_000
# Searches run in the calling thread. Qdrant's default pool (a thread per CPU and more) handed each search to
# other threads: same latency, but more CPU a query, which under concurrent load is throughput lost
# (docs/performance.md). Concurrency comes from the bot's own threads.
SEARCH_THREADS = 1
# Dense search walks the graph comparing int8 copies of the vectors, then rescores the best `DENSE_OVERSAMPLING`
# x limit with the float32 vectors, so every score a search returns is the exact cosine (see `_config`). Qdrant
# rescores only when asked: without these parameters its scores are the int8 ones (slightly off). A shard
# of a few thousand points has no graph yet and is scanned exactly.
DENSE_OVERSAMPLING = 3.0
# From COMMON_TERMS_FROM movies, the first stage's lexical search leaves out query words found in more than
# COMMON_TERM_SHARE of them, keeping at least the KEEP_TERMS rarest: a large catalog's lexical search gets much
# faster; a small one's gained nothing measurable and had a few answers moved (docs/performance.md, "Embedded
# index").
COMMON_TERMS_FROM = 100_000
COMMON_TERM_SHARE = 0.1
KEEP_TERMS = 2
# Qdrant's search-time ef (the oversampled limit) finds nearly all of the exact top 60 up to a few hundred
# thousand movies but too few at a million; from LARGE_CATALOG the main dense search walks wider
# (docs/performance.md, "Settings tried").
LARGE_CATALOG = 500_000
LARGE_CATALOG_EF = 256


# What a search reads in Qdrant Edge's files (qdrant-edge-py 0.9 layout, one folder per segment): the float32
# vectors (rescoring), their int8 copies (the graph walk) and the sparse inverted index. See `readahead`.
SEARCHED_FILES = (f"vector_storage-{DENSE}/matrix.dat", f"vector_storage-{DENSE}/quantized.data",
                  f"vector_index-{SPARSE}/inverted_index.dat")
_READAHEAD_STEP = 2 * 1024 * 1024


def readahead(shard_dir: Path) -> list[Path]:
    """Asks the kernel to read the files searches use into the page cache, in the background; returns them.

    Why: Qdrant Edge drops a shard's files from the page cache when it closes the shard, so after a restart the
    first searches would read their pages from disk one fault at a time. WILLNEED only starts readahead: nothing
    is mapped, and the kernel may drop the pages again under memory pressure. In steps: one call for a whole
    file read ahead only part of it. Figures: docs/performance.md, "The warm-up after the first answer".
    """
    if not hasattr(os, "posix_fadvise"):
        return []
    warmed = []
    for path in sorted(p for name in SEARCHED_FILES for p in shard_dir.glob(f"segments/*/{name}")):
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            continue
        try:
            for offset in range(0, os.fstat(fd).st_size, _READAHEAD_STEP):
                os.posix_fadvise(fd, offset, _READAHEAD_STEP, os.POSIX_FADV_WILLNEED)
            warmed.append(path)
        except OSError:
            pass
        finally:
            os.close(fd)
    return warmed


_DENSE_SEARCH = SearchParams(quantization=QuantizationSearchParams(rescore=True, oversampling=DENSE_OVERSAMPLING))
_EXACT_SCORES = SearchParams(quantization=QuantizationSearchParams(rescore=True))


def dense_search_params(points: int, hnsw_ef: int | None = None) -> SearchParams:
    """How the dense side searches a catalog of `points` movies (or with the given `hnsw_ef`)."""
    if hnsw_ef is None and points >= LARGE_CATALOG:
        hnsw_ef = LARGE_CATALOG_EF
    return SearchParams(hnsw_ef=hnsw_ef,
                        quantization=QuantizationSearchParams(rescore=True, oversampling=DENSE_OVERSAMPLING))


@dataclass(frozen=True, slots=True)
class ShardTuning:
    """The dense index's knobs that matter as a catalog grows (`movie-bot bench-scale` tries them).

    `quantization` is the compressed copy of the vectors the graph walk compares: "int8" (scalar, a quarter of
    the float32 size), "binary" (one bit a dimension, a 32nd) or "none" (the float32 vectors themselves).
    """

    m: int = HNSW_M
    ef_construct: int = HNSW_EF_CONSTRUCT
    quantization: str = "int8"

    def __post_init__(self) -> None:
        if self.quantization not in QUANTIZATIONS:
            raise ValueError(f"quantization must be one of {', '.join(QUANTIZATIONS)}")


QUANTIZATIONS = ("int8", "binary", "none")


def _config(dim: int, tuning: ShardTuning | None = None) -> EdgeConfig:
    """A read-mostly shard for a small machine: storage is memory-mapped (the OS pages it in and may evict it)
    and there is no write-ahead log, since a bundle is written once and flushed before it is published: far
    less resident memory, searches as fast.

    The dense vectors also have int8 copies (scalar quantization, mapped too) that the graph search compares;
    the best 3 x limit are rescored with the float32 vectors: faster searches, as good a top 60, exact scores.
    Holding the int8 copies in RAM instead (Memory.Pinned) was no faster.

    A year hint's filtered searches scan the movies of those years (decades hold at most a few thousand) rather
    than walk the graph, comparing the int8 copies too: no extra memory, faster than scanning the float32
    vectors, dev-set figures unchanged. Figures for all three: docs/performance.md."""
    tuning = tuning or ShardTuning()
    hnsw = HnswIndexConfig(m=tuning.m, ef_construct=tuning.ef_construct, full_scan_threshold=FULL_SCAN_THRESHOLD_KB)
    quantized: ScalarQuantizationConfig | BinaryQuantizationConfig | None = None
    if tuning.quantization == "int8":
        quantized = ScalarQuantizationConfig(type=ScalarType.Int8, quantile=0.99, memory=Memory.Cold)
    elif tuning.quantization == "binary":
        quantized = BinaryQuantizationConfig(memory=Memory.Cold)
    return EdgeConfig(
        vectors={DENSE: EdgeVectorParams(size=dim, distance=Distance.Cosine, memory=Memory.Cold, hnsw_config=hnsw,
                                         quantization_config=quantized)},
        sparse_vectors={SPARSE: EdgeSparseVectorParams(modifier=Modifier.Idf, memory=Memory.Cold)},
        payload_memory=Memory.Cold,
        id_tracker_memory=Memory.Cold,
        wal_enabled=False,
        max_search_threads=SEARCH_THREADS,
    )


_WELL_KNOWN = Filter(must=[FieldCondition(key="vote_count", range=RangeFloat(gte=float(WELL_KNOWN_VOTES)))])


def year_filter(year_range: tuple[int, int] | None) -> Filter | None:
    if year_range is None:
        return None
    low, high = year_range
    return Filter(must=[FieldCondition(key="year", range=RangeFloat(gte=float(low), lte=float(high)))])


class EdgeMovieIndex:
    """Read side of an embedded bundle; one open shard shared by every query thread.

    What ranking reads of each candidate comes from the bundle's facts table (titles and names folded at build,
    see `core.index.facts_file`): reading payloads from the shard, for every candidate of every query, was the
    largest part of a search. Points are numbered by their table row, so a search result maps to its
    facts without a lookup; the records a page shows are read by row too (see `core.index.records`).
    """

    def __init__(self, bundle_dir: Path) -> None:
        self.bundle_dir = bundle_dir
        self.manifest = IndexManifest.read(bundle_dir)
        self.manifest.require_current()  # before reading files whose layout another version may have changed
        try:
            self._shard = EdgeShard.load(str(bundle_dir / SHARD_DIR))
        except Exception as exc:  # the Rust side raises plain exceptions with internals in them
            logger.exception("cannot open the index shard at %s", bundle_dir)
            raise IndexUnavailable(
                "The movie index could not be opened; rebuild it with `movie-bot ingest`."
            ) from exc
        try:
            count = self.count()
            self._count = count
            self._dense_search = dense_search_params(count)
            self._facts = FactsTable.read(bundle_dir / FACTS_FILE, count)
            self._rows = self._facts.rows_by_id
            self._records = RecordsFile(bundle_dir, count)
        except (OSError, ValueError) as exc:
            self._shard.close()
            logger.error("cannot open the records of %s: %s", bundle_dir, exc)
            raise damaged(f"{RECORDS_FILE} is missing or damaged") from exc
        except BaseException:
            self._shard.close()
            raise
        try:
            self._lexical = LexicalTable(bundle_dir, count)
        except BaseException as exc:
            self._records.close()
            self._shard.close()
            if isinstance(exc, (OSError, ValueError)):
                logger.error("cannot open the lexical table of %s: %s", bundle_dir, exc)
                raise damaged(f"{LEXICAL_DIR}/ is missing or damaged") from exc
            raise

    @classmethod
    def open(cls, index_path: Path) -> EdgeMovieIndex:
        return cls(BundleStore(index_path).require_live())

    def retrieve(self, request: RetrievalRequest) -> Candidates:
        dense = Query.Nearest(request.dense.tolist(), using=DENSE)
        # In a large catalog the lexical side's first stage leaves out the words most movies share: walking their
        # posting lists was most of its time, and their weight is too low to decide which movies are candidates.
        # The second stage scores every candidate with the whole query.
        searched = request.sparse
        if self._count >= COMMON_TERMS_FROM:
            searched = self._lexical.selective(request.sparse, COMMON_TERM_SHARE, KEEP_TERMS)
        sparse = Query.Nearest(SparseVector(indices=searched.indices, values=searched.values), using=SPARSE)
        # Stage 1: ids from each retriever, over everything and (with a year hint) within those years.
        params = (self._dense_search, None)
        stage1 = [QueryRequest(limit=request.limit, query=q, with_payload=False, params=p)
                  for q, p in zip((dense, sparse), params, strict=True)]
        # The filtered searches only add to the first list: they keep Qdrant's own ef even in a large catalog.
        flt = year_filter(request.year_range)
        if flt is not None:
            stage1 += [QueryRequest(limit=request.limit // 2, query=q, filter=flt, with_payload=False, params=p)
                       for q, p in zip((dense, sparse), (_DENSE_SEARCH, None), strict=True)]
        kinds = [k % 2 for k in range(len(stage1))]  # 0 dense, 1 sparse
        if request.well_known:
            stage1.append(QueryRequest(limit=request.well_known, query=dense, filter=_WELL_KNOWN,
                                       with_payload=False, params=_DENSE_SEARCH))
            kinds.append(0)
        scores: tuple[dict[Any, float], dict[Any, float]] = ({}, {})
        for kind, answer in zip(kinds, self._shard.query_batch(QueryBatchRequest(stage1)), strict=True):
            scores[kind].update((p.id, p.score) for p in answer)
        ids = scores[0].keys() | scores[1].keys()
        if not ids:
            return Candidates([], np.zeros(0), np.zeros(0))
        # Stage 2: the score each candidate still lacks. Dense, for those only the lexical side found: a search
        # restricted to their ids, scored with the float32 vectors (the pages the first stage's rescoring reads).
        # BM25, for those only the dense side found: from the bundle's lexical table, for just those rows (a
        # restricted lexical search would walk whole posting lists). A movie sharing no word with the query
        # scores 0.
        rows = list(ids)
        points = np.array(rows, dtype=np.int64)
        by_dense, by_sparse = scores
        lacking = [p for p in rows if p not in by_dense]
        if lacking:
            answer = self._shard.query(QueryRequest(limit=len(lacking), query=dense, with_payload=False,
                                                    filter=Filter(must=[HasIdCondition(set(lacking))]),
                                                    params=_EXACT_SCORES))
            by_dense.update((p.id, p.score) for p in answer)
        dense_scores = np.fromiter((by_dense.get(p, 0.0) for p in rows), np.float64, len(rows))
        if searched is not request.sparse:  # the first stage's scores lack the words it left out
            sparse_scores = self._lexical.lexical(points, request.sparse)
        else:
            sparse_scores = np.fromiter((by_sparse.get(p, np.nan) for p in rows), np.float64, len(rows))
            missing = np.isnan(sparse_scores)
            if missing.any():
                sparse_scores[missing] = self._lexical.lexical(points[missing], request.sparse)
        return Candidates(self._facts.pick(rows), dense_scores, sparse_scores)

    def movies(self, imdb_ids: Sequence[str]) -> list[Movie]:
        rows = [row for row in map(self._rows.get, imdb_ids) if row is not None]
        try:
            return self._records.read(rows)
        except (OSError, ValueError) as exc:
            logger.error("unreadable record in %s: %s", RECORDS_FILE, exc)
            raise damaged(f"{RECORDS_FILE} is damaged") from exc

    def dense_vector(self, imdb_id: str) -> NDArray[np.float32] | None:
        pid = self._rows.get(imdb_id)
        if pid is None:
            return None
        records = self._shard.retrieve([pid], False, True)
        vector = records[0].vector.get(DENSE) if records and isinstance(records[0].vector, dict) else None
        return None if vector is None else np.asarray(vector, dtype=np.float32)

    def catalog_facts(self) -> Sequence[MovieFacts]:
        return self._facts.all()

    def dense_rows(self, vector: np.ndarray, limit: int, hnsw_ef: int | None = None) -> list[int]:
        """The dense retriever alone, as stage 1 runs it (or with another `hnsw_ef`): the facts rows it finds,
        best first. For measuring the approximate search against an exact one."""
        params = self._dense_search if hnsw_ef is None else dense_search_params(self._count, hnsw_ef)
        answer = self._shard.query(QueryRequest(limit=limit, query=Query.Nearest(vector.tolist(), using=DENSE),
                                                with_payload=False, params=params))
        return [int(p.id) for p in answer]

    def sparse_rows(self, sparse: SparseVec, limit: int) -> list[int]:
        """The sparse retriever alone, as stage 1 runs it: the facts rows it finds, best first (for timing it)."""
        query = Query.Nearest(SparseVector(indices=sparse.indices, values=sparse.values), using=SPARSE)
        answer = self._shard.query(QueryRequest(limit=limit, query=query, with_payload=False))
        return [int(p.id) for p in answer]

    def prefetch(self) -> None:
        readahead(self.bundle_dir / SHARD_DIR)

    def count(self) -> int:
        return int(self._shard.count(CountRequest()))

    def close(self) -> None:
        self._lexical.close()
        self._records.close()
        self._shard.close()


class EdgeIndexBuilder:
    """Writes a complete bundle in a new version directory; `publish` swaps it in."""

    def __init__(self, store: BundleStore, build_dir: Path, dim: int, tuning: ShardTuning | None = None) -> None:
        self.store = store
        self.build_dir = build_dir
        self.dim = dim
        self._shard = EdgeShard.create(str(build_dir / SHARD_DIR), _config(dim, tuning))
        self._shard.update(UpdateOperation.create_field_index("year", PayloadSchemaType.Integer))
        self._shard.update(UpdateOperation.create_field_index("vote_count", PayloadSchemaType.Integer))
        # Everything but the shard goes to disk as it comes (a builder holding every record, vector and facts
        # row until publish needed gigabytes at a million movies); the files are finished at publish.
        self._count = 0
        self._records = RecordsWriter(build_dir)
        self._vectors = (build_dir / _VECTORS_PART).open("wb")
        self._keys = _JsonListWriter(build_dir / VECTOR_KEYS_FILE, "[", "]")
        self._facts = _JsonListWriter(build_dir / FACTS_FILE, FACTS_HEAD, FACTS_TAIL, ROW_SEPARATOR)
        self._lexical = LexicalTableWriter(build_dir)

    def stored_vectors(self) -> Iterator[StoredVector]:
        """Vectors of the live bundle, read from its cache file (the live shard may be open in a bot)."""
        live = self.store.live_dir()
        if live is None or not (live / VECTORS_FILE).is_file():
            return
        try:
            vectors = np.load(live / VECTORS_FILE, mmap_mode="r")
            keys = json.loads((live / VECTOR_KEYS_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            logger.warning("the live index has an unreadable vector cache; everything will be re-embedded")
            return
        if vectors.shape[1] != self.dim or len(keys) != vectors.shape[0]:
            return
        for (imdb_id, digest), row in zip(keys, vectors, strict=True):
            yield StoredVector(imdb_id, digest, np.asarray(row, dtype=np.float32))

    def write(self, points: Sequence[IndexPoint]) -> None:
        for start in range(0, len(points), UPSERT_BATCH):
            chunk = points[start : start + UPSERT_BATCH]
            edge_points = []
            for p in chunk:
                record = p.movie.to_payload()
                payload = record | {"content_hash": p.content_hash}
                dense = np.ascontiguousarray(p.dense, dtype=np.float32)
                if dense.shape != (self.dim,):
                    raise ValueError(f"a dense vector of shape {dense.shape}, expected ({self.dim},)")
                vector = {DENSE: dense.tolist(), SPARSE: SparseVector(indices=p.sparse.indices, values=p.sparse.values)}
                # The point's id is its row in the facts table and the records file.
                edge_points.append(Point(self._count, vector, payload))
                f = movie_facts(payload)
                self._facts.append([f.imdb_id, f.year, f.vote_count, f.title_words, f.names, f.genres])
                self._records.append(record)
                self._keys.append([p.movie.imdb_id, p.content_hash])
                self._vectors.write(dense.tobytes())
                self._lexical.append(p.sparse)
                self._count += 1
            self._shard.update(UpdateOperation.upsert_points(edge_points))

    def publish(self, manifest: IndexManifest) -> None:
        self._shard.flush()
        self._shard.optimize()
        self._shard.close()
        self._vectors.close()
        npy_from_raw(self.build_dir / _VECTORS_PART, self.build_dir / VECTORS_FILE, np.dtype(np.float32),
                     (self._count, self.dim))
        self._keys.close()
        self._facts.close()
        self._records.close()
        self._lexical.close()
        manifest.write(self.build_dir)
        self.store.publish(self.build_dir)

    def abort(self) -> None:
        try:
            self._shard.close()
        finally:
            self._vectors.close()
            for writer in (self._keys, self._facts, self._records, self._lexical):
                writer.discard()
            self.store.discard(self.build_dir)


class _JsonListWriter:
    """A JSON list written item by item (`head` + items joined by `separator` + `tail`), without holding it."""

    def __init__(self, path: Path, head: str, tail: str, separator: str = ", ") -> None:
        self._out: IO[str] = path.open("w", encoding="utf-8")
        self._out.write(head)
        self._tail = tail
        self._separator = separator
        self._first = True

    def append(self, item: Any) -> None:
        if not self._first:
            self._out.write(self._separator)
        self._out.write(json.dumps(item, ensure_ascii=False))
        self._first = False

    def close(self) -> None:
        if not self._out.closed:
            self._out.write(self._tail)
            self._out.close()

    def discard(self) -> None:
        self._out.close()
