"""One step of the scale curve in its own process: `python -m scripts.bench.scale_worker SPEC.json`.

A fresh process per step, so that each one's resident memory is its own: `build` publishes a synthetic
catalog through the Edge builder and BundleStore, as ingest does; `serve` opens it as the bot does and
measures; `server` does both against qdrant-client's local mode (in memory). The result is one line
`SCALE-RESULT {json}` on stdout.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULT_PREFIX = "SCALE-RESULT "
LAUNCH_ENV = "SCALE_LAUNCH_TS"
CANDIDATES = 60  # the search service's candidates per retriever (core.search_service.CANDIDATES)


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def memory_now() -> dict[str, float]:
    """Resident memory of this process now and at its peak, and the anonymous part (MB)."""
    return {"rss_mb": _status_mb("VmRSS"), "peak_rss_mb": _status_mb("VmHWM"), "anon_rss_mb": _status_mb("RssAnon")}


# --- build -----------------------------------------------------------------------------------------------

def _build_points(movies: Sequence[Any], vectors: Any, sparse: Any) -> list[Any]:
    from core.documents import content_hash, sparse_text
    from core.index.port import IndexPoint

    return [IndexPoint(m, content_hash(m), v, sparse.document(sparse_text(m)))
            for m, v in zip(movies, vectors, strict=True)]


def _manifest(source_dir: Path, points: int, sparse_recipe: str, label: str) -> Any:
    from core.documents import RECIPE_VERSION
    from core.index.manifest import IndexManifest

    source = IndexManifest.read(source_dir)
    return IndexManifest(model_name=source.model_name, dim=source.dim, recipe=RECIPE_VERSION,
                         sparse_recipe=sparse_recipe, points=points,
                         built_at=datetime.now(UTC).isoformat(timespec="seconds"), source=label,
                         encoder_files=dict(source.encoder_files))


def run_build(spec: dict[str, Any]) -> dict[str, Any]:
    """Publish a synthetic catalog of spec['size'] movies at spec['index_path'] (Qdrant Edge)."""
    from core.index.bundle import ENCODER_DIR, BundleStore
    from core.index.edge import EdgeIndexBuilder, ShardTuning
    from core.sparse import SparseEncoder
    from scripts.bench.scale_data import SourceCatalog, synthetic_catalog

    source_dir = Path(spec["source"])
    source = SourceCatalog.read(source_dir)
    store = BundleStore(Path(spec["index_path"]))
    sparse = SparseEncoder()
    started = time.perf_counter()
    points_s = write_s = 0.0
    with store.build_lock():
        build_dir = store.new_build_dir()
        builder = EdgeIndexBuilder(store, build_dir, source.vectors.shape[1], ShardTuning(**spec["tuning"]))
        try:
            for movies, vectors in synthetic_catalog(source, spec["size"], seed=spec.get("seed", 0)):
                t0 = time.perf_counter()
                points = _build_points(movies, vectors, sparse)
                t1 = time.perf_counter()
                builder.write(points)
                points_s += t1 - t0
                write_s += time.perf_counter() - t1
            shutil.copytree(source_dir / ENCODER_DIR, build_dir / ENCODER_DIR)
            t2 = time.perf_counter()
            builder.publish(_manifest(source_dir, spec["size"], sparse.recipe, "synthetic"))
            publish_s = time.perf_counter() - t2
        except BaseException:
            builder.abort()
            raise
    return {"build_s": time.perf_counter() - started, "points_s": points_s, "upsert_s": write_s,
            "optimize_and_publish_s": publish_s, **memory_now()}


# --- measuring a served index ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Prepared:
    """The queries as the search service turns them into a retrieval request, vectors included."""

    requests: list[Any]
    dense_texts: list[str]


def prepare(service: Any, queries: Sequence[str]) -> Prepared:
    from core.index.port import RetrievalRequest
    from core.query_intent import parse_intent
    from core.query_text import clean_query

    intents = [parse_intent(clean_query(q)) for q in queries]
    texts = [i.dense_text for i in intents]
    vectors = service.encoder.encode(texts)
    requests = [RetrievalRequest(v, service.sparse.query(i.text), CANDIDATES, i.year_range)
                for v, i in zip(vectors, intents, strict=True)]
    return Prepared(requests, texts)


async def _lone(service: Any, queries: Sequence[str], prepared: Prepared) -> dict[str, list[float]]:
    """Per query, alone: a whole search, an encode of its text, and the index part (retrieve) on its vector;
    which goes first turns from query to query, so the machine's drift hits all three alike. The index part's
    CPU time is taken too (the shard searches in the calling thread): on a busy shared VM it does not count
    the waits for a core that inflate the wall-clock times."""
    out: dict[str, list[float]] = {"search_ms": [], "encode_ms": [], "index_ms": [], "index_cpu_ms": []}
    for k, (query, text, request) in enumerate(zip(queries, prepared.dense_texts, prepared.requests, strict=True)):
        steps = ("search", "encode", "index")
        for step in steps[k % 3:] + steps[: k % 3]:
            if step == "search":
                started = time.perf_counter()
                await service.search(query)
                out["search_ms"].append((time.perf_counter() - started) * 1000)
            elif step == "encode":
                started = time.perf_counter()
                service.encoder.encode([text])
                out["encode_ms"].append((time.perf_counter() - started) * 1000)
            else:
                started, cpu = time.perf_counter(), time.thread_time()
                service.index.retrieve(request)
                out["index_ms"].append((time.perf_counter() - started) * 1000)
                out["index_cpu_ms"].append((time.thread_time() - cpu) * 1000)
    return out


async def _throughput(service: Any, queries: Sequence[str], concurrency: int) -> tuple[float, int]:
    """Whole searches, `concurrency` clients at once, as the bots call them: queries a second, errors."""
    queue = list(reversed(queries))
    errors = 0

    async def client() -> None:
        nonlocal errors
        while queue:
            query = queue.pop()
            try:
                await service.search(query)
            except Exception:
                errors += 1

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    wall = time.perf_counter() - started
    return (len(queries) - errors) / wall, errors


def index_throughput(retrieve: Callable[[Any], object], requests: Sequence[Any], concurrency: int) -> float:
    """The index part alone on precomputed vectors, `concurrency` threads at once: queries a second."""
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(retrieve, requests))
    return len(requests) / (time.perf_counter() - started)


def _dense_runs(index: Any, requests: Sequence[Any], ef_values: Sequence[int | None],
                limit: int) -> dict[str, dict[str, Any]]:
    """The dense retriever alone at each hnsw_ef: its ids (for recall) and times."""
    runs: dict[str, dict[str, Any]] = {}
    for ef in ef_values:
        ids: list[list[int]] = []
        times: list[float] = []
        cpu_times: list[float] = []
        for request in requests:
            started, cpu = time.perf_counter(), time.thread_time()
            ids.append(index.dense_rows(request.dense, limit, ef))
            times.append((time.perf_counter() - started) * 1000)
            cpu_times.append((time.thread_time() - cpu) * 1000)
        runs["default" if ef is None else str(ef)] = {"ids": ids, "ms": times, "cpu_ms": cpu_times}
    return runs


def _sparse_cpu_ms(index: Any, requests: Sequence[Any]) -> list[float]:
    """The sparse retriever alone (top 60): the searching thread's CPU time of each query."""
    times = []
    for request in requests:
        cpu = time.thread_time()
        index.sparse_rows(request.sparse, CANDIDATES)
        times.append((time.thread_time() - cpu) * 1000)
    return times


async def _measure(service: Any, spec: dict[str, Any], launched: float, dense: bool) -> dict[str, Any]:
    first = await service.search(spec["warmup"])
    ready_s = time.time() - launched
    at_first = memory_now()
    await service.warmed()  # as `movie-bot bench`: the steady state after the warm-up the first answer started
    latency = spec["latency_queries"]
    prepared = prepare(service, latency)
    lone = await _lone(service, latency, prepared)
    result: dict[str, Any] = {"start_to_first_answer_s": ready_s, "first_answer": first.hits[0].movie.title
                              if first.hits else None, "at_first_answer": at_first, **lone}
    if dense:
        result["dense"] = _dense_runs(service.index, prepared.requests, spec["ef_values"], spec["recall_k"])
        result["sparse_cpu_ms"] = _sparse_cpu_ms(service.index, prepared.requests)
        vectors_file = Path(spec["query_vectors"])
        import numpy as np

        np.save(vectors_file, np.vstack([r.dense for r in prepared.requests]).astype(np.float32))
    throughput_queries = spec["throughput_queries"]
    qps, errors = await _throughput(service, throughput_queries, spec["concurrency"])
    index_requests = prepare(service, throughput_queries).requests
    result.update(throughput_qps=qps, throughput_errors=errors,
                  index_throughput_qps=index_throughput(service.index.retrieve, index_requests,
                                                        spec["concurrency"]),
                  at_end=memory_now())
    return result


async def _serve(spec: dict[str, Any], launched: float) -> dict[str, Any]:
    from core.bootstrap import build_search_service
    from core.settings import load_settings

    service = build_search_service(load_settings(INDEX_PATH=spec["index_path"], QDRANT_URL=None))
    try:
        return await _measure(service, spec, launched, dense=spec.get("recall", True))
    finally:
        await service.aclose()


async def _server(spec: dict[str, Any], launched: float) -> dict[str, Any]:
    """qdrant-client's local mode, in memory: build the same catalog through ServerIndexBuilder, then measure."""
    import logging
    import warnings

    from qdrant_client import QdrantClient

    from core.bootstrap import search_service_for
    from core.embedding.onnx_encoder import OnnxEncoder
    from core.index.bundle import ENCODER_DIR, BundleStore
    from core.index.server import ServerIndexBuilder, ServerMovieIndex
    from core.sparse import SparseEncoder
    from scripts.bench.scale_data import SourceCatalog, synthetic_catalog

    logging.getLogger("qdrant_client").setLevel(logging.ERROR)
    warnings.simplefilter("ignore", UserWarning)  # local mode warns about collections past 20,000 points
    source_dir = Path(spec["source"])
    source = SourceCatalog.read(source_dir)
    store = BundleStore(Path(spec["index_path"]))
    sparse = SparseEncoder()
    client = QdrantClient(":memory:")
    started = time.perf_counter()
    with store.build_lock():
        build_dir = store.new_build_dir()
        builder = ServerIndexBuilder(client, spec["collection"], source.vectors.shape[1], store, build_dir)
        for movies, vectors in synthetic_catalog(source, spec["size"], seed=spec.get("seed", 0)):
            builder.write(_build_points(movies, vectors, sparse))
        shutil.copytree(source_dir / ENCODER_DIR, build_dir / ENCODER_DIR)
        builder.publish(_manifest(source_dir, spec["size"], sparse.recipe, "qdrant-server"))
    build_s = time.perf_counter() - started
    encoder = OnnxEncoder(store.require_live() / ENCODER_DIR)
    service = search_service_for(ServerMovieIndex(client, spec["collection"]), encoder)
    try:
        result = await _measure(service, spec, time.time(), dense=False)
    finally:
        await service.aclose()
    result["build_s"] = build_s
    result["start_to_first_answer_s"] = None  # the catalog was built in this process: no cold start to time
    return result


def main(argv: Sequence[str]) -> int:
    launched = float(os.environ.get(LAUNCH_ENV, "0")) or time.time()
    spec: dict[str, Any] = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    steps: dict[str, Callable[[], dict[str, Any]]] = {
        "build": lambda: run_build(spec),
        "serve": lambda: asyncio.run(_serve(spec, launched)),
        "server": lambda: asyncio.run(_server(spec, launched)),
    }
    result = steps[spec["step"]]()
    sys.stdout.write(RESULT_PREFIX + json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

