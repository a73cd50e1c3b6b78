"""Qdrant Edge: the Qdrant engine in-process, the default embedded backend."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
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
    ScrollRequest,
    SearchParams,
    SparseVector,
    UpdateOperation,
)

from core.errors import IndexUnavailable
from core.index.bundle import BundleStore
from core.index.manifest import IndexManifest
from core.index.port import (
    DENSE,
    RANKING_FIELDS,
    SPARSE,
    Candidates,
    IndexPoint,
    MovieFacts,
    RetrievalRequest,
    StoredVector,
    in_order,
    movie_facts,
)
from core.index.records import RECORDS_FILE, open_records, write_records
from core.models import Movie
from core.sparse import SparseVec

log = logging.getLogger(__name__)

SHARD_DIR = "shard"
VECTORS_FILE = "vectors.npy"
VECTOR_KEYS_FILE = "vectors.json"
UPSERT_BATCH = 512
FACTS_FILE = "facts.json"
# 2: {"format": 2, "rows": [[imdb_id, year, votes, title words, names], ...]}, row = point id; 1 (older
# bundles): a list of [point uuid, imdb_id, title, year, votes, people] rows.
FACTS_FORMAT = 2
FACTS_PAGE = 2048


# Qdrant's defaults. The full-scan threshold is the KB of vectors a filter must select before a filtered
# search walks the graph instead of scanning every selected vector (see `_config`).
HNSW_M = 16
HNSW_EF_CONSTRUCT = 100
FULL_SCAN_THRESHOLD_KB = 10_000
# Searches run in the calling thread. Qdrant's default pool (a thread per CPU and more) handed each search to
# other threads: same latency, but 1.75 instead of 1.05 ms of CPU a query (full catalog, 2 cores), which
# under concurrent load is throughput lost. Concurrency comes from the bot's own threads.
SEARCH_THREADS = 1
# Dense search walks the graph comparing int8 copies of the vectors, then rescores the best `DENSE_OVERSAMPLING`
# x limit with the float32 vectors, so every score a search returns is the exact cosine (see `_config`). Qdrant
# rescores only when asked: without these parameters its scores are the int8 ones (off by up to ~5e-3). A shard
# of a few thousand points has no graph yet and is scanned exactly.
DENSE_OVERSAMPLING = 3.0
_DENSE_SEARCH = SearchParams(quantization=QuantizationSearchParams(rescore=True, oversampling=DENSE_OVERSAMPLING))
_EXACT_SCORES = SearchParams(quantization=QuantizationSearchParams(rescore=True))


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
    and there is no write-ahead log, since a bundle is written once and flushed before it is published.
    Measured on the full catalog: the open shard costs 16 MB of RSS instead of 74 MB, searches as fast.

    The dense vectors also have int8 copies (scalar quantization, 4.2 MB for the full catalog, mapped too) that
    the graph search compares; the best 3 x limit are rescored with the float32 vectors. Measured on the full
    catalog (400 benchmark queries, top 60): 0.21 instead of 0.58 ms a search, and 98.1% of the exact top 60
    found instead of 97.9%, with exact scores (max deviation from numpy's cosine 1.2e-7). Holding the int8
    copies in RAM instead (Memory.Pinned, 4.2 MB more anonymous memory) was no faster: both bundles open in one
    process, searches alternating between them, the medians differed by 0.00-0.04 ms.

    A year hint's filtered searches scan the movies of those years (decades hold at most a few thousand) rather
    than walk the graph, comparing the int8 copies too. Before those copies, a scan read the float32 vectors
    through a second mapping of the same file (+14 MB RSS after the benchmark), so the threshold was 512 KB;
    now scanning costs no memory (peak RSS 185 MB either way) and is faster: the first stage of queries with a
    year hint took 0.85 instead of 1.06 ms, and the benchmark's median search 0.15-0.17 ms less (both bundles
    in one process, alternating). Dev-set figures are unchanged."""
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


def year_filter(year_range: tuple[int, int] | None) -> Filter | None:
    if year_range is None:
        return None
    low, high = year_range
    return Filter(must=[FieldCondition(key="year", range=RangeFloat(gte=float(low), lte=float(high)))])


class _FactsTable:
    """Every movie's ranking facts, held in memory, and how to find a shard point's row in it.

    Bundles of this version number their points 0..n-1 in the order of the table in `facts.json`, so a
    point's id is its row. Older bundles used UUID point ids; for them the table keeps a map.
    """

    def __init__(self, facts: list[MovieFacts], rows: dict[Any, int] | None) -> None:
        self.facts = facts
        self._rows = rows  # point id -> row; None when ids are the rows
        self._points: dict[str, Any] = (
            {f.imdb_id: i for i, f in enumerate(facts)} if rows is None
            else {facts[row].imdb_id: pid for pid, row in rows.items()}
        )

    def __len__(self) -> int:
        return len(self.facts)

    def row(self, pid: Any) -> int:
        return int(pid) if self._rows is None else self._rows[pid]

    def point(self, imdb_id: str) -> Any | None:
        return self._points.get(imdb_id)


def _read_facts(path: Path) -> _FactsTable | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        log.warning("%s is unreadable; reading ranking facts from the index instead", path)
        return None
    try:
        if isinstance(data, dict) and data.get("format") == FACTS_FORMAT:
            return _FactsTable([MovieFacts.of(*row) for row in data["rows"]], None)
        # Format 1 (older bundles): [point uuid, imdb_id, title, year, votes, people] rows.
        facts = [movie_facts({"imdb_id": imdb_id, "title": title, "year": year, "vote_count": votes,
                              "director": people}) for _, imdb_id, title, year, votes, people in data]
        return _FactsTable(facts, {uuid.UUID(row[0]): i for i, row in enumerate(data)})
    except (KeyError, TypeError, ValueError):
        log.warning("%s is not a ranking-facts table; reading ranking facts from the index instead", path)
        return None


def _facts_from_payloads(shard: EdgeShard) -> _FactsTable:
    log.info("no usable %s in the index; reading ranking facts from its payloads (rebuild to start faster)",
             FACTS_FILE)
    facts: list[MovieFacts] = []
    rows: dict[Any, int] = {}
    offset = None
    while True:
        records, offset = shard.scroll(
            ScrollRequest(offset=offset, limit=FACTS_PAGE, with_payload=RANKING_FIELDS, with_vector=False)
        )
        for record in records:
            rows[record.id] = len(facts)
            facts.append(movie_facts(record.payload or {}))
        if offset is None:
            return _FactsTable(facts, rows)


class EdgeMovieIndex:
    """Read side of an embedded bundle; one open shard shared by every query thread.

    What ranking reads of each candidate comes from a table loaded at open from the bundle's `facts.json`
    (titles and names folded at build): reading payloads costs the shard about 10 us a point, which for every
    candidate of every query was the largest part of a search, and building the table from payloads at open
    takes several times longer than reading the file. A bundle without the file (built by an older version)
    still works: its table is read from the payloads. Points are numbered by their table row, so a search
    result maps to its facts without a lookup (UUIDs cost ~2 us each to build in Python).
    """

    def __init__(self, bundle_dir: Path) -> None:
        self.bundle_dir = bundle_dir
        self.manifest = IndexManifest.read(bundle_dir)
        try:
            self._shard = EdgeShard.load(str(bundle_dir / SHARD_DIR))
        except Exception as exc:  # the Rust side raises plain exceptions with internals in them
            log.exception("cannot open the index shard at %s", bundle_dir)
            raise IndexUnavailable(
                "The movie index could not be opened; rebuild it with `movie-bot ingest`."
            ) from exc
        count = self.count()
        table = _read_facts(bundle_dir / FACTS_FILE)
        if table is None or len(table) != count:  # absent, unreadable, or not of this shard
            table = _facts_from_payloads(self._shard)
        self._table = table
        self._records = open_records(bundle_dir, count)

    @classmethod
    def open(cls, index_path: Path) -> EdgeMovieIndex:
        return cls(BundleStore(index_path).require_live())

    def retrieve(self, request: RetrievalRequest) -> Candidates:
        dense = Query.Nearest(request.dense.tolist(), using=DENSE)
        sparse = Query.Nearest(SparseVector(indices=request.sparse.indices, values=request.sparse.values),
                               using=SPARSE)
        # Stage 1: ids from each retriever, over everything and (with a year hint) within those years.
        params = (_DENSE_SEARCH, None)
        stage1 = [QueryRequest(limit=request.limit, query=q, with_payload=False, params=p)
                  for q, p in zip((dense, sparse), params, strict=True)]
        flt = year_filter(request.year_range)
        if flt is not None:
            stage1 += [QueryRequest(limit=request.limit // 2, query=q, filter=flt, with_payload=False, params=p)
                       for q, p in zip((dense, sparse), params, strict=True)]
        # Stage 1 answers alternate dense, sparse.
        scores: tuple[dict[Any, float], dict[Any, float]] = ({}, {})
        for k, answer in enumerate(self._shard.query_batch(QueryBatchRequest(stage1))):
            scores[k % 2].update((p.id, p.score) for p in answer)
        ids = scores[0].keys() | scores[1].keys()
        if not ids:
            return Candidates([], np.zeros(0), np.zeros(0))
        # Stage 2: the score each candidate still lacks (dense for those only the sparse side found, and the
        # reverse), by an exact scan of just those points. A movie sharing no word with the query stays at 0.
        missing = [(k, q, ids - scores[k].keys()) for k, q in enumerate((dense, sparse))]
        missing = [(k, q, need) for k, q, need in missing if need]
        if missing:
            answers = self._shard.query_batch(QueryBatchRequest([
                QueryRequest(limit=len(need), query=q, filter=Filter(must=[HasIdCondition(need)]), with_payload=False,
                             params=_EXACT_SCORES if k == 0 else None)
                for k, q, need in missing
            ]))
            for (k, _, _), answer in zip(missing, answers, strict=True):
                scores[k].update((p.id, p.score) for p in answer)
        by_dense, by_sparse = scores
        table, facts = self._table, self._table.facts
        points = list(ids)
        return Candidates([facts[table.row(pid)] for pid in points],
                          np.array([by_dense.get(pid, 0.0) for pid in points], dtype=np.float64),
                          np.array([by_sparse.get(pid, 0.0) for pid in points], dtype=np.float64))

    def movies(self, imdb_ids: Sequence[str]) -> list[Movie]:
        points = [pid for pid in map(self._table.point, imdb_ids) if pid is not None]
        if self._records is not None and all(isinstance(pid, int) for pid in points):
            try:
                return in_order(imdb_ids, self._records.read(points))
            except (OSError, ValueError) as exc:
                log.warning("unreadable record in %s (%s); reading the index payloads", RECORDS_FILE, exc)
        # The whole payload: measured 3x faster than selecting the fields a result shows.
        records = self._shard.retrieve(points, True, False)
        return in_order(imdb_ids, (Movie.from_payload(r.payload or {}) for r in records))

    def dense_rows(self, vector: np.ndarray, limit: int, hnsw_ef: int | None = None) -> list[int]:
        """The dense retriever alone, as stage 1 runs it (or with another `hnsw_ef`): the facts rows it finds,
        best first. For measuring the approximate search against an exact one."""
        params = _DENSE_SEARCH if hnsw_ef is None else SearchParams(
            hnsw_ef=hnsw_ef, quantization=QuantizationSearchParams(rescore=True, oversampling=DENSE_OVERSAMPLING))
        answer = self._shard.query(QueryRequest(limit=limit, query=Query.Nearest(vector.tolist(), using=DENSE),
                                                with_payload=False, params=params))
        return [self._table.row(p.id) for p in answer]

    def sparse_rows(self, sparse: SparseVec, limit: int) -> list[int]:
        """The sparse retriever alone, as stage 1 runs it: the facts rows it finds, best first (for timing it)."""
        query = Query.Nearest(SparseVector(indices=sparse.indices, values=sparse.values), using=SPARSE)
        answer = self._shard.query(QueryRequest(limit=limit, query=query, with_payload=False))
        return [self._table.row(p.id) for p in answer]

    def count(self) -> int:
        return int(self._shard.count(CountRequest()))

    def close(self) -> None:
        if self._records is not None:
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
        self._keys: list[tuple[str, str]] = []
        self._vectors: list[np.ndarray] = []
        self._facts: list[MovieFacts] = []
        self._records: list[dict[str, Any]] = []

    def stored_vectors(self) -> Iterator[StoredVector]:
        """Vectors of the live bundle, read from its cache file (the live shard may be open in a bot)."""
        live = self.store.live_dir()
        if live is None or not (live / VECTORS_FILE).is_file():
            return
        try:
            vectors = np.load(live / VECTORS_FILE, mmap_mode="r")
            keys = json.loads((live / VECTOR_KEYS_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            log.warning("the live index has an unreadable vector cache; everything will be re-embedded")
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
                payload = p.movie.to_payload() | {"content_hash": p.content_hash}
                vector = {
                    DENSE: p.dense.astype(np.float32).tolist(),
                    SPARSE: SparseVector(indices=p.sparse.indices, values=p.sparse.values),
                }
                # The point's id is its row in the facts table (see `_FactsTable`).
                edge_points.append(Point(len(self._facts), vector, payload))
                self._facts.append(movie_facts(payload))
                self._records.append(p.movie.to_payload())
                self._keys.append((p.movie.imdb_id, p.content_hash))
                self._vectors.append(p.dense.astype(np.float32))
            self._shard.update(UpdateOperation.upsert_points(edge_points))

    def publish(self, manifest: IndexManifest) -> None:
        self._shard.flush()
        self._shard.optimize()
        self._shard.close()
        matrix = np.vstack(self._vectors) if self._vectors else np.zeros((0, self.dim), dtype=np.float32)
        np.save(self.build_dir / VECTORS_FILE, matrix)
        (self.build_dir / VECTOR_KEYS_FILE).write_text(json.dumps(self._keys), encoding="utf-8")
        rows = [[f.imdb_id, f.year, f.vote_count, f.title_words, f.names] for f in self._facts]
        (self.build_dir / FACTS_FILE).write_text(json.dumps({"format": FACTS_FORMAT, "rows": rows},
                                                            ensure_ascii=False), encoding="utf-8")
        write_records(self.build_dir, self._records)
        manifest.write(self.build_dir)
        self.store.publish(self.build_dir)

    def abort(self) -> None:
        try:
            self._shard.close()
        finally:
            self.store.discard(self.build_dir)
