"""The embedded index: exact dense scores, page-cache warming, and a bundle it cannot read (missing or damaged
files, an older format) refused with a message that says to rebuild it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.bootstrap import build_search_service, open_search_service
from core.domain import MovieFacts, SparseVec
from core.errors import IndexMismatch, IndexUnavailable
from core.index.bundle import BundleStore
from core.index.edge import (
    SEARCHED_FILES,
    SHARD_DIR,
    VECTOR_KEYS_FILE,
    VECTORS_FILE,
    EdgeIndexBuilder,
    EdgeMovieIndex,
    readahead,
)
from core.index.facts_file import FACTS_FILE
from core.index.manifest import MANIFEST_FILE, IndexManifest
from core.index.port import IndexPoint, RetrievalRequest
from core.index.records import OFFSETS_FILE, RECORDS_FILE
from core.models import Movie
from tests.conftest import MARTIAN_QUERY, settings_for

pytestmark = pytest.mark.slow

DIM = 384
QUERIES = (MARTIAN_QUERY, "Tom Hanks in space", "a 90s movie where toys come alive", "Suite Française")


@pytest.fixture(scope="module")
def large_bundle(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """A bundle of 12,000 random points, enough that the shard builds its HNSW graph and int8 copies (it
    searches smaller ones exactly, by scanning): its index path and its vectors."""
    root = tmp_path_factory.mktemp("large")
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(12_000, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    store = BundleStore(root / "index")
    builder = EdgeIndexBuilder(store, store.new_build_dir(), DIM)
    builder.write([
        IndexPoint(Movie(f"tt{i:07d}", f"Film {i}", 2000, "An overview."), f"h{i}", vectors[i],
                   SparseVec([i % 97], [1.0]))
        for i in range(len(vectors))
    ])
    builder.publish(IndexManifest("model", DIM, "recipe", "sparse", len(vectors), "2026-01-01"))
    shard_config = (store.require_live() / SHARD_DIR / "edge_config.json").read_text()
    assert '"quantization_config"' in shard_config
    return root / "index", vectors


def test_dense_scores_are_exact_cosines_though_the_graph_search_compares_int8_vectors(
    large_bundle: tuple[Path, Any],
) -> None:
    index_path, vectors = large_bundle
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


def test_the_files_the_builder_streams_hold_every_point_in_point_id_order(large_bundle: tuple[Path, Any]) -> None:
    index_path, vectors = large_bundle
    live = BundleStore(index_path).require_live()
    np.testing.assert_array_equal(np.load(live / VECTORS_FILE), vectors)
    keys = json.loads((live / VECTOR_KEYS_FILE).read_text(encoding="utf-8"))
    assert keys[:2] == [["tt0000000", "h0"], ["tt0000001", "h1"]] and len(keys) == len(vectors)
    facts_text = (live / FACTS_FILE).read_text(encoding="utf-8")
    rows = json.loads(facts_text)["rows"]
    assert [row[0] for row in rows] == [f"tt{i:07d}" for i in range(len(vectors))]
    # One row a line, so that opening finds the rows without decoding them (core.index.facts_file).
    assert len(facts_text.splitlines()) == len(rows)
    index = EdgeMovieIndex.open(index_path)
    try:
        assert list(index.catalog_facts()) == [MovieFacts.of(*row) for row in rows]
    finally:
        index.close()
    lines = (live / RECORDS_FILE).read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[-1])["title"] == f"Film {len(vectors) - 1}"
    assert sorted(p.name for p in live.iterdir() if p.suffix == ".part") == []


def test_an_aborted_build_leaves_nothing_behind(tmp_path: Path) -> None:
    store = BundleStore(tmp_path / "index")
    build_dir = store.new_build_dir()
    builder = EdgeIndexBuilder(store, build_dir, DIM)
    builder.write([IndexPoint(Movie("tt1", "A Film", 2000, "An overview."), "h", np.ones(DIM, np.float32),
                              SparseVec([1], [1.0]))])
    builder.abort()
    assert not build_dir.exists()
    assert store.live_dir() is None


def test_a_vector_of_the_wrong_size_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    store = BundleStore(tmp_path / "index")
    builder = EdgeIndexBuilder(store, store.new_build_dir(), DIM)
    try:
        with pytest.raises(ValueError, match="shape"):
            builder.write([IndexPoint(Movie("tt1", "A Film", 2000, "An overview."), "h",
                                      np.ones(DIM - 1, np.float32), SparseVec([1], [1.0]))])
    finally:
        builder.abort()


def test_the_files_searches_read_are_found_for_warming(large_bundle: tuple[Path, Any]) -> None:
    index_path, _ = large_bundle
    shard = BundleStore(index_path).require_live() / SHARD_DIR
    warmed = {path.relative_to(path.parents[1]).as_posix() for path in readahead(shard)}
    # Found by Qdrant Edge's file names: an upgrade that renamed them would leave the warm-up reading nothing
    # ahead, unnoticed.
    assert warmed == set(SEARCHED_FILES)
    assert readahead(shard / "missing") == []


def refusal(index_path: Path) -> str:
    """The message a search service built on this bundle is refused with."""
    with pytest.raises((IndexUnavailable, IndexMismatch)) as info:
        build_search_service(settings_for(index_path))
    return info.value.user_message


@pytest.mark.parametrize("damage", ["missing", "unreadable", "of another build"])
def test_a_bundle_without_a_usable_facts_file_is_refused_with_a_rebuild_message(index_copy: Path, damage: str) -> None:
    facts = BundleStore(index_copy).require_live() / FACTS_FILE
    if damage == "missing":
        facts.unlink()
    elif damage == "unreadable":
        facts.write_text("{not json", encoding="utf-8")
    else:
        table = json.loads(facts.read_text(encoding="utf-8"))
        facts.write_text(json.dumps(table | {"rows": table["rows"][:3]}), encoding="utf-8")
    assert "movie-bot ingest" in refusal(index_copy)


def test_a_bundle_of_an_older_format_is_refused_by_the_manifest_check(index_copy: Path) -> None:
    live = BundleStore(index_copy).require_live()
    IndexManifest.read(live)  # readable: ingest reads it to reuse the vectors
    manifest = json.loads((live / MANIFEST_FILE).read_text(encoding="utf-8"))
    (live / MANIFEST_FILE).write_text(json.dumps(manifest | {"schema_version": 1}), encoding="utf-8")
    message = refusal(index_copy)
    assert "movie-bot ingest" in message
    assert "format 1" in message


def shown(index_path: Path) -> list[list[Movie]]:
    """The full records each query's first page shows."""
    with open_search_service(settings_for(index_path)) as service:
        return [[h.movie for h in service.search_sync(q, limit=5).hits] for q in QUERIES]


def _records(index_path: Path) -> Path:
    return BundleStore(index_path).require_live() / RECORDS_FILE


def test_pages_read_from_the_records_file_match_the_index_payloads(index_copy: Path) -> None:
    from qdrant_edge import CountRequest, EdgeShard

    pages = shown(index_copy)
    assert all(page for page in pages)
    shard = EdgeShard.load(str(BundleStore(index_copy).require_live() / SHARD_DIR))
    try:
        payloads = {str(r.payload["imdb_id"]): Movie.from_payload(r.payload)
                    for r in shard.retrieve(list(range(shard.count(CountRequest()))), True, False)}
    finally:
        shard.close()
    assert [[payloads[m.imdb_id] for m in page] for page in pages] == pages


@pytest.mark.parametrize("damage", ["missing", "truncated", "offsets of another build"])
def test_a_missing_or_damaged_records_file_is_refused_with_a_rebuild_message(index_copy: Path, damage: str) -> None:
    records = _records(index_copy)
    data = records.read_bytes()
    if damage == "missing":
        records.unlink()
    elif damage == "truncated":
        records.write_bytes(data[: len(data) // 2])
    else:
        np.save(records.parent / OFFSETS_FILE, np.arange(0, 30, 10, dtype=np.int64))
    assert "movie-bot ingest" in refusal(index_copy)


def test_a_record_garbled_after_opening_is_an_unavailable_index(index_copy: Path) -> None:
    records = _records(index_copy)
    with open_search_service(settings_for(index_copy)) as service:
        records.write_bytes(b"\xff" * len(records.read_bytes()))  # same size, so every read fails to parse
        with pytest.raises(IndexUnavailable) as info:
            service.search_sync(MARTIAN_QUERY)
    assert "movie-bot ingest" in info.value.user_message
