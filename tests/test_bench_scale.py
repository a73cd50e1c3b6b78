"""bench-scale: the synthetic catalog, the exact search and recall arithmetic, and one tiny end-to-end run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.errors import BadInput
from core.index.bundle import BundleStore
from core.ingest import IngestReport
from core.models import Movie
from scripts.bench.scale import (
    RECALL_K,
    ScaleOptions,
    exact_top_k,
    format_report,
    measure_curve,
    parse_sizes,
    recall_at,
)
from scripts.bench.scale_data import SYNTHETIC_ID_BASE, SourceCatalog, synthetic_catalog
from tests.conftest import settings_for


def _source(n: int = 30, dim: int = 16) -> SourceCatalog:
    rng = np.random.default_rng(3)
    vectors = rng.standard_normal((n, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    movies = [Movie(imdb_id=f"tt{1000000 + i}", title=f"Film number {i}", year=1980 + i % 40,
                    overview=f"A story about thing {i}. It ends well.", genres=("Drama",), keywords=(f"k{i}",),
                    directors=(f"Director {i}",), cast=(f"Actor {i}", f"Actress {i}"), vote_count=100 + i)
              for i in range(n)]
    return SourceCatalog(movies, vectors)


def test_sizes_parse_with_suffixes_and_reject_junk() -> None:
    assert parse_sizes("10000, 100k,1M") == [10_000, 100_000, 1_000_000]
    assert parse_sizes("2_000") == [2000]
    for bad in ("", "ten", "0", "-5", "1.5k"):
        with pytest.raises(BadInput):
            parse_sizes(bad)


def test_synthetic_catalog_keeps_the_real_movies_then_adds_unique_variants() -> None:
    source = _source()
    chunks = list(synthetic_catalog(source, 95, seed=1, chunk=20))
    movies = [m for ms, _ in chunks for m in ms]
    vectors = np.vstack([v for _, v in chunks])
    assert len(movies) == len(vectors) == 95
    assert movies[:30] == source.movies
    np.testing.assert_allclose(vectors[:30], source.vectors, atol=1e-6)
    assert len({m.imdb_id for m in movies}) == 95
    assert all(m.imdb_id == f"tt{SYNTHETIC_ID_BASE + i}" for i, m in enumerate(movies[30:], start=30))
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # A variant stays near a real film (its base) without being a copy of it.
    nearest = (vectors[30:] @ source.vectors.T).max(axis=1)
    assert nearest.min() > 0.6 and nearest.max() < 0.9999
    assert all(m.overview and m.title and m.cast for m in movies[30:])
    again = [m for ms, _ in synthetic_catalog(source, 95, seed=1, chunk=20) for m in ms]
    assert again == movies


def test_a_catalog_smaller_than_the_source_is_its_first_movies() -> None:
    source = _source()
    movies = [m for ms, _ in synthetic_catalog(source, 7) for m in ms]
    assert movies == source.movies[:7]
    with pytest.raises(ValueError):
        next(synthetic_catalog(source, 0))


def test_exact_top_k_matches_a_full_sort_across_chunks() -> None:
    rng = np.random.default_rng(5)
    vectors = rng.standard_normal((1000, 8)).astype(np.float32)
    queries = rng.standard_normal((7, 8)).astype(np.float32)
    found = exact_top_k(vectors, queries, 10, chunk=64)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    expected = np.argsort(-(queries @ unit.T), axis=1)[:, :10]
    assert found.shape == (7, 10)
    assert (found == expected).all()
    assert exact_top_k(vectors[:4], queries, 10).shape == (7, 4)


def test_recall_is_the_share_of_the_exact_top_k_found() -> None:
    exact = np.array([[1, 2, 3, 4], [5, 6, 7, 8]])
    assert recall_at([[1, 2, 3, 4], [5, 6, 7, 8]], exact, 4) == 1.0
    assert recall_at([[4, 3, 9, 9], [8, 0, 0, 0]], exact, 4) == pytest.approx((2 / 4 + 1 / 4) / 2)
    assert recall_at([[1, 2, 0, 0], [0, 0, 0, 0]], exact, 2) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        recall_at([], exact, 4)


@pytest.mark.slow
def test_bench_scale_end_to_end_on_tiny_catalogs(built: tuple[Path, IngestReport], tmp_path: Path) -> None:
    root, _ = built
    settings = settings_for(root / "index")
    options = ScaleOptions(sizes=[300, 2000], queries=6, throughput_queries=8, server_max=300)
    report = measure_curve(settings, options, tmp_path)
    report = json.loads(json.dumps(report))
    backends = [(s["size"], s["backend"]) for s in report["sizes"]]
    assert backends == [(300, "qdrant-edge"), (300, "qdrant-client local (brute force)"), (2000, "qdrant-edge")]
    for s in report["sizes"]:
        assert s["search_ms"]["p50"] > 0 and s["encode_ms"]["p50"] > 0 and s["index_ms"]["p50"] > 0
        assert s["search_ms"]["p50"] <= s["search_ms"]["p99"]
        assert s["throughput_qps"] > 0 and s["throughput_errors"] == 0
        assert 0 < s["rss_at_first_answer_mb"] <= s["peak_rss_mb"]
    edge = report["sizes"][-1]
    assert edge["bundle_mb"] > 0 and edge["build_s"] > 0 and edge["start_to_first_answer_s"] > 0
    assert set(edge["dense"]) == {"default", "64", "128", "256"}
    assert edge["sparse_cpu_p50_ms"] >= 0
    for run in edge["dense"].values():
        for k in RECALL_K:
            assert 0.0 <= run[f"recall@{k}"] <= 1.0
    assert report["sizes"][1]["dense"] == {}  # local mode is exact: no recall to measure
    assert report["sizes"][1]["sparse_cpu_p50_ms"] is None
    # The bundles were temporary, and the live source index is untouched.
    assert not list(tmp_path.glob("scale-*"))
    assert BundleStore(root / "index").require_live().is_dir()
    text = format_report(report)
    assert "2,000" in text and "brute-force stand-in" in text and "recall@10" in text


@pytest.mark.slow
def test_a_kept_bundle_is_measured_again_without_being_rebuilt(built: tuple[Path, IngestReport],
                                                               tmp_path: Path) -> None:
    root, _ = built
    settings = settings_for(root / "index")
    keep = tmp_path / "keep"
    for work in ("one", "two", "three"):
        (tmp_path / work).mkdir()
    first = measure_curve(settings, ScaleOptions(sizes=[300], queries=4, throughput_queries=4, server_max=0,
                                                 keep=keep), tmp_path / "one")
    live = BundleStore(keep / "scale-300" / "index").require_live()
    again = measure_curve(settings, ScaleOptions(sizes=[300], queries=4, throughput_queries=4, server_max=0,
                                                 keep=keep, reuse=True), tmp_path / "two")
    assert first["sizes"][0]["build_s"] > 0
    assert again["sizes"][0]["build_s"] is None  # measured, not built
    assert again["sizes"][0]["search_ms"]["p50"] > 0
    assert BundleStore(keep / "scale-300" / "index").require_live() == live
    assert "kept" in format_report(again)
    # A kept bundle of another size is not taken for this one: it is built.
    other = measure_curve(settings, ScaleOptions(sizes=[200], queries=4, throughput_queries=4, server_max=0,
                                                 keep=keep, reuse=True), tmp_path / "three")
    assert other["sizes"][0]["build_s"] > 0
