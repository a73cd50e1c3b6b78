"""Fast tests of the bench's pure parts; the heavy stacks themselves are not run here."""

from __future__ import annotations

import dataclasses
import importlib.metadata as md
import json
import random
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from core.index.bundle import BundleStore
from core.index.edge import EdgeIndexBuilder
from core.index.manifest import IndexManifest
from core.index.port import IndexPoint
from core.models import Movie
from core.sparse import SparseEncoder
from scripts.bench import run_bench
from scripts.bench.measure import closure_size, percentile
from scripts.bench.queries import (
    WARMUP_QUERY,
    CatalogEntry,
    build_query_list,
    generate_queries,
    load_dev_queries,
)
from scripts.bench.report import (
    METRICS,
    BenchReport,
    StackFigures,
    advantage,
    floor_figures,
    format_table,
    to_json,
)
from scripts.bench.runner import DEV_QUERY_FILES, recall_at_5
from scripts.bench.seed_index import catalog_key, read_catalog
from scripts.bench.worker import anon_rss_mb, peak_rss_mb

GENRES = ("Drama", "Comedy", "Horror", "Science Fiction", "Western")
WORDS = ["alien", "heist", "robot", "island", "detective", "wedding", "zombie", "pirate", "spy", "dragon",
         "ghost", "prison"]


def _entries(n: int) -> list[CatalogEntry]:
    rng = random.Random(1)
    return [
        CatalogEntry(
            imdb_id=f"tt{1000000 + i}",
            overview=" ".join(rng.choice(WORDS) for _ in range(20)) + ".",
            year=rng.randint(1930, 2015),
            genres=tuple(rng.sample(GENRES, 2)),
            keywords=tuple(rng.sample(WORDS, 3)),
        )
        for i in range(n)
    ]


# --- percentiles ---------------------------------------------------------------------------------------

def test_percentile_matches_numpy_linear() -> None:
    rng = random.Random(3)
    values = [rng.uniform(0, 100) for _ in range(537)]
    for q in (0, 1, 50, 95, 99, 100):
        assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))


def test_percentile_small_cases() -> None:
    assert percentile([7.0], 99) == 7.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 101)


# --- installed size ------------------------------------------------------------------------------------

def _dist(site: Path, name: str, requires: list[str], files: dict[str, int]) -> int:
    """Write a minimal installed distribution; return the bytes of its files (RECORD lists them all)."""
    info = site / f"{name}-1.0.dist-info"
    info.mkdir()
    meta = "Metadata-Version: 2.1\nName: " + name + "\nVersion: 1.0\n"
    meta += "".join(f"Requires-Dist: {r}\n" for r in requires)
    (info / "METADATA").write_text(meta)
    for rel, size in files.items():
        path = site / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * size)
    record = [*files, f"{info.name}/METADATA", f"{info.name}/RECORD", f"{name}/never_installed.py"]
    (info / "RECORD").write_text("".join(f"{r},,\n" for r in record))
    return sum(files.values()) + (info / "METADATA").stat().st_size + (info / "RECORD").stat().st_size


def _finder(site: Path) -> Callable[[str], md.Distribution | None]:
    def find(name: str) -> md.Distribution | None:
        return next(iter(md.distributions(name=name, path=[str(site)])), None)
    return find


def test_closure_size_follows_requirements_markers_and_extras(tmp_path: Path) -> None:
    alpha = _dist(tmp_path, "alpha", ['beta>=1', 'gamma; extra == "fast"', 'ancient; python_version < "3"'],
                  {"alpha/__init__.py": 1000, "alpha/core.so": 5000})
    beta = _dist(tmp_path, "beta", ["alpha"], {"beta/__init__.py": 300})  # a cycle back to alpha
    gamma = _dist(tmp_path, "gamma", ["Beta", "absent-pkg"], {"gamma/__init__.py": 70})
    _dist(tmp_path, "unrelated", [], {"unrelated/__init__.py": 99999})
    find = _finder(tmp_path)

    base = closure_size(["alpha"], find)
    assert base.sizes == {"alpha": alpha, "beta": beta}
    assert base.total == alpha + beta
    assert base.missing == []
    assert base.largest(1) == [("alpha", alpha)]

    fast = closure_size(["alpha[fast]"], find)
    assert fast.sizes == {"alpha": alpha, "beta": beta, "gamma": gamma}
    assert fast.missing == ["absent-pkg"]


def test_closure_size_of_real_distributions_is_positive() -> None:
    result = closure_size(["numpy"])
    assert result.sizes["numpy"] > 1_000_000
    assert result.missing == []


# --- queries -------------------------------------------------------------------------------------------

def test_generated_queries_are_deterministic_distinct_and_sized() -> None:
    entries = _entries(300)
    first = generate_queries(entries, 400, seed=5)
    assert len(first) == 400
    assert len({q.casefold() for q in first}) == 400
    assert first == generate_queries(list(reversed(entries)), 400, seed=5)  # entry order does not matter
    assert first != generate_queries(entries, 400, seed=6)
    assert all(q.strip() == q and "  " not in q and q for q in first)


def test_query_list_puts_dev_first_and_skips_duplicates_and_warmup() -> None:
    dev = ["a dev query", "A DEV QUERY", WARMUP_QUERY, "another dev query"]
    out = build_query_list(dev, _entries(200), 600)
    assert len(out) == 600
    assert out[:2] == ["a dev query", "another dev query"]
    assert WARMUP_QUERY not in out
    assert len({q.casefold() for q in out}) == 600
    assert build_query_list(dev, _entries(200), 1) == ["a dev query"]


def test_dev_set_loads() -> None:
    path = next(p for p in DEV_QUERY_FILES if p.is_file())
    dev = load_dev_queries(path)
    assert len(dev) >= 200
    assert all(q and ids for q, ids in dev)


def test_recall_at_5_counts_only_judged_queries() -> None:
    relevant = {"q1": frozenset({"tt1"}), "q2": frozenset({"tt9"})}
    assert recall_at_5(["q1", "q2", "q3"], [["tt0", "tt1"], ["tt2"], ["tt9"]], relevant) == 0.5
    assert recall_at_5(["q3"], [["tt9"]], relevant) is None


# --- seed catalog --------------------------------------------------------------------------------------

def test_read_catalog_pages_through_the_edge_shard(tmp_path: Path) -> None:
    store = BundleStore(tmp_path / "index")
    build = store.new_build_dir()
    builder = EdgeIndexBuilder(store, build, dim=4)
    sparse = SparseEncoder()
    rng = np.random.default_rng(0)
    movies = [Movie(f"tt{2000000 + i}", f"Title {i}", 1990 + i, f"Plot number {i}.", ("Drama",), keywords=("k",))
              for i in range(7)]
    builder.write([IndexPoint(m, f"h{i}", rng.random(4).astype(np.float32), sparse.document(m.overview))
                   for i, m in enumerate(movies)])
    builder.publish(IndexManifest("fake", 4, "r", "s", len(movies), "now"))

    entries, payloads = read_catalog(tmp_path / "index", page=3)
    assert [e.imdb_id for e in entries] == [m.imdb_id for m in movies]
    assert entries[2] == CatalogEntry("tt2000002", "Plot number 2.", 1992, ("Drama",), ("k",))
    assert payloads[0] == {"imdb_id": "tt2000000", "title": "Title 0", "year": 1990,
                           "overview": "Plot number 0.", "genres": ["Drama"]}
    changed = [dict(p) for p in payloads]
    changed[3]["overview"] = "Another plot."
    assert catalog_key("m", payloads) == catalog_key("m", [dict(p) for p in payloads])
    assert catalog_key("m", payloads) != catalog_key("m", changed)
    assert catalog_key("m", payloads) != catalog_key("other", payloads)


# --- report --------------------------------------------------------------------------------------------

def _figures(scale: float, qps: float, installed: float) -> StackFigures:
    return StackFigures(
        start_to_first_answer_s=0.5 * scale, peak_rss_mb=100 * scale, rss_at_first_answer_mb=90 * scale,
        p50_ms=3 * scale, p95_ms=8 * scale, p99_ms=12 * scale, mean_ms=4 * scale, throughput_qps=qps,
        throughput_errors=0, installed_mb=installed, largest_installed=[("numpy", 68.0)],
        recall_at_5_dev=0.8, first_answer="Heat",
    )


def _report() -> BenchReport:
    return BenchReport(movies=10_000, latency_queries=600, dev_queries=227, throughput_queries=640,
                       concurrency=64, ours=_figures(1.0, 400.0, 300.0), seed=_figures(10.0, 40.0, 1200.0),
                       notes=["a note"])


def test_advantage_direction() -> None:
    by_key = {m.key: m for m in METRICS}
    assert advantage(by_key["p50_ms"], ours=2.0, seed=40.0) == 20.0
    assert advantage(by_key["throughput_qps"], ours=400.0, seed=40.0) == 10.0
    assert advantage(by_key["p50_ms"], ours=0.0, seed=40.0) is None


def test_table_shows_both_stacks_ratios_and_targets() -> None:
    text = format_table(_report())
    assert "10,000 movies" in text and "227 dev + 373 generated" in text
    line = next(x for x in text.splitlines() if x.startswith("latency p50"))
    assert "3.00 ms" in line and "30.00 ms" in line and "10.0x" in line and "<= 5 ms  PASS" in line
    line = next(x for x in text.splitlines() if x.startswith("installed serving deps"))
    assert "300 MB" in line and "1,200 MB" in line and "4.0x" in line and "FAIL" in line
    line = next(x for x in text.splitlines() if x.startswith("throughput"))
    assert "400 q/s" in line and ">= 300 q/s  PASS" in line
    assert "targets met: 5/6" in text
    assert "- a note" in text


def test_json_has_the_same_figures() -> None:
    data = json.loads(json.dumps(to_json(_report())))
    assert data["ours"]["p99_ms"] == 12.0 and data["seed"]["p99_ms"] == 120.0
    assert data["ours_advantage"]["start_to_first_answer_s"] == pytest.approx(10.0)
    assert data["targets"]["installed_mb"] == {"target": "<= 250 MB", "value": 300.0, "pass": False}
    assert data["targets"]["throughput_qps"]["pass"] is True
    assert data["all_targets_met"] is False
    assert data["queries"] == {"latency": 600, "dev": 227, "generated": 373, "throughput": 640,
                               "concurrency": 64}


def test_peak_rss_is_reported() -> None:
    assert peak_rss_mb() > 1


def test_run_bench_rejects_a_bad_query_count(capsys: pytest.CaptureFixture[str]) -> None:
    from core.settings import load_settings

    assert run_bench(load_settings(), queries=0) == 2
    assert "--queries" in capsys.readouterr().err


def test_anonymous_rss_is_part_of_the_resident_set() -> None:
    assert 1 < anon_rss_mb() <= peak_rss_mb()


# --- the encode-only floor -----------------------------------------------------------------------------

def test_floor_is_the_median_encode_and_the_ratio_of_p50_to_it() -> None:
    floor, ratio = floor_figures(6.0, [5.0, 4.0, 3.0, 100.0])
    assert floor == pytest.approx(4.5)
    assert ratio == pytest.approx(6.0 / 4.5)
    assert floor_figures(6.0, []) == (None, None)


def _with_floor(floor: float, over: float) -> BenchReport:
    report = _report()
    ours = dataclasses.replace(report.ours, encode_floor_p50_ms=floor, p50_over_floor=over)
    return dataclasses.replace(report, ours=ours)


def test_floor_is_printed_beside_the_figures_and_is_a_target() -> None:
    text = format_table(_with_floor(2.5, 1.2))
    floor_line = next(x for x in text.splitlines() if "encode alone p50" in x)
    assert "2.50 ms" in floor_line
    ratio_line = next(x for x in text.splitlines() if "p50 / floor" in x)
    assert "1.20x" in ratio_line and "<= 1.3x  PASS" in ratio_line
    assert "targets met: 6/7" in text
    assert "FAIL" in next(x for x in format_table(_with_floor(2.0, 1.5)).splitlines() if "p50 / floor" in x)


def test_json_has_the_floor_under_ours() -> None:
    data = json.loads(json.dumps(to_json(_with_floor(2.5, 1.2))))
    assert data["ours"]["encode_floor_p50_ms"] == 2.5 and data["ours"]["p50_over_floor"] == 1.2
    assert data["seed"]["encode_floor_p50_ms"] is None
    assert data["targets"]["p50_over_floor"]["pass"] is True
    assert "p50_over_floor" not in to_json(_report())["targets"]
