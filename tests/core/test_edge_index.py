"""The embedded index's ranking-facts table: from the bundle's file, or from payloads for older bundles."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.bootstrap import build_search_service
from core.index.bundle import BundleStore
from core.index.edge import (
    FACTS_FILE,
    SHARD_DIR,
    EdgeIndexBuilder,
    EdgeMovieIndex,
)
from core.index.edge import _config as _CONFIG
from core.index.manifest import IndexManifest
from core.index.port import IndexPoint, RetrievalRequest
from core.index.records import OFFSETS_FILE, RECORDS_FILE
from core.models import Movie
from core.sparse import SparseVec
from scripts.bench.warm_start import SEARCHED_FILES, readahead
from tests.conftest import MARTIAN_QUERY, settings_for

pytestmark = pytest.mark.slow

DIM = 384
QUERIES = (MARTIAN_QUERY, "Tom Hanks in space", "a 90s movie where toys come alive", "Suite Française")


def ranked(index_path: Path) -> list[list[tuple[str, float]]]:
    service = build_search_service(settings_for(index_path))
    try:
        return [[(h.movie.imdb_id, h.score) for h in service.search_sync(q, limit=10).hits] for q in QUERIES]
    finally:
        service.index.close()


def _without_int8_copies(dim: int, tuning: Any = None) -> Any:
    """The shard config of bundles built before the int8 copies."""
    from qdrant_edge import EdgeConfig

    from core.index import edge

    config = _CONFIG(dim)
    dense = config.vectors[edge.DENSE]
    plain = type(dense)(size=dense.size, distance=dense.distance, memory=dense.memory, hnsw_config=dense.hnsw_config)
    return EdgeConfig(vectors={edge.DENSE: plain}, sparse_vectors=config.sparse_vectors,
                      payload_memory=config.payload_memory, id_tracker_memory=config.id_tracker_memory,
                      wal_enabled=config.wal_enabled, max_search_threads=config.max_search_threads)


@pytest.fixture(scope="module", params=[False, True], ids=["int8 copies", "older bundle without them"])
def large_bundle(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any, bool]:
    """A bundle of 12,000 random points, enough that the shard builds its HNSW graph and int8 copies (it
    searches smaller ones exactly, by scanning): its index path, its vectors, and whether it is of the older kind."""
    older_bundle: bool = request.param
    root = tmp_path_factory.mktemp("large")
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(12_000, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    store = BundleStore(root / "index")
    with pytest.MonkeyPatch.context() as patch:
        if older_bundle:
            patch.setattr("core.index.edge._config", _without_int8_copies)
        builder = EdgeIndexBuilder(store, store.new_build_dir(), DIM)
        builder.write([
            IndexPoint(Movie(f"tt{i:07d}", f"Film {i}", 2000, "An overview."), f"h{i}", vectors[i],
                       SparseVec([i % 97], [1.0]))
            for i in range(len(vectors))
        ])
        builder.publish(IndexManifest("model", DIM, "recipe", "sparse", len(vectors), "2026-01-01"))
    shard_config = (store.require_live() / SHARD_DIR / "edge_config.json").read_text()
    assert ('"quantization_config"' in shard_config) is not older_bundle
    return root / "index", vectors, older_bundle


def test_dense_scores_are_exact_cosines_though_the_graph_search_compares_int8_vectors(
    large_bundle: tuple[Path, Any, bool],
) -> None:
    index_path, vectors, _ = large_bundle
    rng = np.random.default_rng(7)
    index = EdgeMovieIndex.open(index_path)
    try:
        for _ in range(10):
            query = vectors[rng.integers(0, len(vectors))]
            found = index.retrieve(RetrievalRequest(query, SparseVec([5], [1.0]), 60))
            rows = [int(f.imdb_id[2:]) for f in found.facts]
            # int8 scores would be off by about 1e-3: rescoring with the float32 vectors gives the cosine.
            np.testing.assert_allclose(found.dense, vectors[rows] @ query, atol=2e-6)
    finally:
        index.close()


def test_the_files_searches_read_are_found_for_warming(large_bundle: tuple[Path, Any, bool]) -> None:
    index_path, _, older_bundle = large_bundle
    shard = BundleStore(index_path).require_live() / SHARD_DIR
    warmed = {path.relative_to(path.parents[1]).as_posix() for path in readahead(shard)}
    # Found by Qdrant Edge's file names: an upgrade that renamed them would leave the warm-start comparison
    # (scripts.bench.warm_start) reading nothing ahead, unnoticed.
    int8_copies = {name for name in SEARCHED_FILES if name.endswith("quantized.data")}
    assert warmed == set(SEARCHED_FILES) - (int8_copies if older_bundle else set())
    assert readahead(shard / "missing") == []


def test_a_bundle_without_its_facts_file_ranks_the_same(index_copy: Path) -> None:
    facts = BundleStore(index_copy).require_live() / FACTS_FILE
    assert facts.is_file()
    before = ranked(index_copy)
    facts.unlink()
    assert ranked(index_copy) == before


def test_an_unreadable_facts_file_is_not_fatal(index_copy: Path) -> None:
    before = ranked(index_copy)
    (BundleStore(index_copy).require_live() / FACTS_FILE).write_text("{not json", encoding="utf-8")
    assert ranked(index_copy) == before


def test_a_facts_file_of_another_build_is_not_trusted(index_copy: Path) -> None:
    before = ranked(index_copy)
    facts = BundleStore(index_copy).require_live() / FACTS_FILE
    table = json.loads(facts.read_text(encoding="utf-8"))
    facts.write_text(json.dumps(table | {"rows": table["rows"][:3]}), encoding="utf-8")
    assert ranked(index_copy) == before


def _as_older_bundle(index_path: Path, *, with_facts: bool) -> None:
    """Rewrite the live bundle as versions before this one wrote it: UUID point ids and, optionally, a
    facts.json of [point uuid, imdb_id, title, year, votes, people] rows."""
    from qdrant_edge import EdgeShard, Point, ScrollRequest, UpdateOperation

    from core.index.port import point_id

    live = BundleStore(index_path).require_live()
    shard = EdgeShard.load(str(live / SHARD_DIR))
    records, offset = [], None
    while True:
        page, offset = shard.scroll(ScrollRequest(offset=offset, limit=256, with_payload=True, with_vector=True))
        records += page
        if offset is None:
            break
    shard.close()
    shutil.rmtree(live / SHARD_DIR)
    older = EdgeShard.create(str(live / SHARD_DIR), _CONFIG(384))
    rows = []
    for r in records:
        payload = r.payload or {}
        pid = point_id(str(payload["imdb_id"]))
        older.update(UpdateOperation.upsert_points([Point(pid, r.vector, payload)]))
        rows.append([pid, payload["imdb_id"], payload["title"], payload.get("year"), payload.get("vote_count", 0),
                     [*payload.get("director", ()), *payload.get("cast", ())]])
    older.flush()
    older.close()
    facts = live / FACTS_FILE
    if with_facts:
        facts.write_text(json.dumps(rows), encoding="utf-8")
    else:
        facts.unlink()


@pytest.mark.parametrize("with_facts", [True, False])
def test_an_older_bundle_with_uuid_point_ids_ranks_the_same(index_copy: Path, with_facts: bool) -> None:
    before = ranked(index_copy)
    _as_older_bundle(index_copy, with_facts=with_facts)
    assert ranked(index_copy) == before


def shown(index_path: Path) -> list[list[Movie]]:
    """The full records each query's first page shows."""
    service = build_search_service(settings_for(index_path))
    try:
        return [[h.movie for h in service.search_sync(q, limit=5).hits] for q in QUERIES]
    finally:
        service.index.close()


def _records(index_path: Path) -> Path:
    return BundleStore(index_path).require_live() / RECORDS_FILE


def test_pages_read_from_the_records_file_match_the_index_payloads(index_copy: Path) -> None:
    assert _records(index_copy).is_file()
    before = shown(index_copy)
    assert all(page for page in before)
    _records(index_copy).unlink()
    assert shown(index_copy) == before


@pytest.mark.parametrize("damage", ["truncated", "garbled", "offsets of another build"])
def test_a_damaged_records_file_falls_back_to_the_index_payloads(index_copy: Path, damage: str) -> None:
    before = shown(index_copy)
    records = _records(index_copy)
    data = records.read_bytes()
    if damage == "truncated":
        records.write_bytes(data[: len(data) // 2])
    elif damage == "garbled":  # same size, so it opens; every read then fails to parse
        records.write_bytes(b"\xff" * len(data))
    else:
        np.save(records.parent / OFFSETS_FILE, np.arange(0, 30, 10, dtype=np.int64))
    assert shown(index_copy) == before
