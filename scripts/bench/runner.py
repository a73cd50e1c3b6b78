"""Orchestration: prepare the catalog, queries and seed index, run each stack in a subprocess, report."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qdrant_edge import EdgeShard

from core.errors import MovieBotError
from core.index.bundle import BundleStore
from core.index.edge import SHARD_DIR
from core.settings import Settings
from scripts.bench.measure import OURS_ROOTS, SEED_ROOTS, closure_size
from scripts.bench.queries import WARMUP_QUERY, CatalogEntry, build_query_list, generate_queries, load_dev_queries
from scripts.bench.report import (
    BenchReport,
    StackFigures,
    floor_figures,
    format_table,
    latency_summary,
    to_json,
)
from scripts.bench.seed_index import SeedIndex, ensure_seed_index, read_catalog
from scripts.bench.worker import LAUNCH_ENV, RESULT_PREFIX

CONCURRENCY = 64
THROUGHPUT_QUERIES = 640
MIN_LATENCY_QUERIES = 500
WORKER_TIMEOUT_S = 1800
MB = 1024 * 1024
_REPO = Path(__file__).resolve().parents[2]
DEV_QUERY_FILES = (_REPO / "eval" / "dev_queries.jsonl", _REPO / "scripts" / "dev_queries.jsonl")


class BenchFailed(MovieBotError):
    """A stack's worker process failed; the message carries the end of its stderr."""


def _progress(message: str) -> None:
    sys.stderr.write(f"bench: {message}\n")
    sys.stderr.flush()


def run_bench(settings: Settings, *, as_json: bool = False, queries: int = 600) -> int:
    if queries < 1:
        sys.stderr.write("--queries must be at least 1.\n")
        return 2
    with tempfile.TemporaryDirectory(prefix="movie-bot-bench-") as tmp:
        return _bench(settings, as_json, queries, Path(tmp))


@dataclass(frozen=True)
class Workload:
    """The catalog and the queries every measured process answers, and where its index is."""

    index_path: Path
    copy_note: str | None
    entries: list[CatalogEntry]
    payloads: list[dict[str, object]]
    latency_queries: list[str]
    throughput_queries: list[str]
    relevant: dict[str, frozenset[str]]

    @property
    def plan(self) -> dict[str, Any]:
        return {"warmup": WARMUP_QUERY, "latency_queries": self.latency_queries,
                "throughput_queries": self.throughput_queries, "concurrency": CONCURRENCY}

    def env(self, settings: Settings) -> dict[str, str]:
        return {"INDEX_PATH": str(self.index_path), "EMBEDDING_MODEL": settings.embedding_model,
                "QUERY_ENCODER": settings.query_encoder}


def prepare_workload(settings: Settings, queries: int, tmp: Path) -> Workload:
    served_path, copy_note = _readable_index(settings.index_path, tmp)
    entries, payloads = read_catalog(served_path)
    dev_file = next((p for p in DEV_QUERY_FILES if p.is_file()), None)
    dev = load_dev_queries(dev_file) if dev_file else []
    latency_queries = build_query_list([q for q, _ in dev], entries, queries)
    taken = {q.casefold() for q in latency_queries} | {WARMUP_QUERY.casefold()}
    throughput_queries = [q for q in generate_queries(entries, (queries + THROUGHPUT_QUERIES) * 2, seed=7)
                          if q.casefold() not in taken][:THROUGHPUT_QUERIES]
    relevant = {q: ids for q, ids in dev if ids}
    return Workload(served_path, copy_note, entries, payloads, latency_queries, throughput_queries, relevant)


def _bench(settings: Settings, as_json: bool, queries: int, tmp: Path) -> int:
    work = prepare_workload(settings, queries, tmp)
    entries, latency_queries, relevant = work.entries, work.latency_queries, work.relevant
    n_dev = sum(q in relevant for q in latency_queries)
    _progress(f"{len(entries):,} movies; {len(latency_queries)} latency queries ({n_dev} from the dev set), "
              f"{len(work.throughput_queries)} throughput queries")

    seed_index = ensure_seed_index(settings.index_path, settings.embedding_model, work.payloads)
    plan, env = work.plan, work.env(settings)
    ours_raw = run_worker("ours", plan, tmp, env)
    seed_raw = run_worker("seed", plan, tmp, env, seed_index)

    _progress("summing installed sizes")
    ours_size, seed_size = closure_size(OURS_ROOTS), closure_size(SEED_ROOTS)
    ours = _figures(ours_raw, latency_queries, relevant, ours_size.total, ours_size.largest())
    seed = _figures(seed_raw, latency_queries, relevant, seed_size.total, seed_size.largest())
    notes = _notes(ours_raw, ours, seed, ours_size.missing, seed_size.missing, len(latency_queries), settings)
    if work.copy_note:
        notes.append(work.copy_note)
    report = BenchReport(len(entries), len(latency_queries), n_dev, len(work.throughput_queries), CONCURRENCY,
                         ours, seed, notes)
    if as_json:
        sys.stdout.write(json.dumps(to_json(report)) + "\n")
    else:
        sys.stdout.write(format_table(report) + "\n")
    return 0


def _readable_index(index_path: Path, tmp: Path) -> tuple[Path, str | None]:
    """The index to bench: `index_path`, or a private copy of its live bundle when another process (a bot)
    holds it open, since an Edge shard opens in one process at a time."""
    try:
        shard = EdgeShard.load(str(BundleStore(index_path).require_live() / SHARD_DIR))
    except MovieBotError:
        raise
    except Exception:
        live = BundleStore(index_path).require_live()
        copy = tmp / "index"
        _progress(f"{index_path} is open in another process; benchmarking a private copy of it")
        shutil.copytree(live, copy)
        return copy, f"{index_path} was open in another process: both stacks read a private copy of it"
    shard.close()
    return index_path, None


def run_worker(stack: str, plan: dict[str, Any], tmp: Path, env: dict[str, str],
               seed: SeedIndex | None = None, preexec: Callable[[], None] | None = None) -> dict[str, Any]:
    """Run one stack in a fresh process (`preexec` runs in the child first) and return its raw figures."""
    stack_plan = dict(plan, stack=stack)
    if seed is not None:
        stack_plan["seed"] = {"qdrant_path": str(seed.qdrant_path), "collection": seed.collection,
                              "model_source": seed.model_source}
    plan_file = tmp / f"{stack}.json"
    plan_file.write_text(json.dumps(stack_plan), encoding="utf-8")
    _progress(f"running the {stack} stack in a subprocess")
    child_env = os.environ | env
    child_env[LAUNCH_ENV] = repr(time.time())
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "scripts.bench.worker", str(plan_file)],
            env=child_env, capture_output=True, text=True, timeout=WORKER_TIMEOUT_S, check=False,
            preexec_fn=preexec,
        )
    except subprocess.TimeoutExpired:
        raise BenchFailed(f"The {stack} stack did not finish within {WORKER_TIMEOUT_S} s.") from None
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            result: dict[str, Any] = json.loads(line[len(RESULT_PREFIX):])
            return result
    tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
    raise BenchFailed(f"The {stack} stack failed (exit code {proc.returncode}):\n{tail}")


def recall_at_5(queries: Sequence[str], top5: Sequence[Sequence[str]],
                relevant: dict[str, frozenset[str]]) -> float | None:
    judged = [(q, ids) for q, ids in zip(queries, top5, strict=True) if q in relevant]
    if not judged:
        return None
    return sum(bool(relevant[q] & set(ids[:5])) for q, ids in judged) / len(judged)


def _figures(raw: dict[str, Any], queries: Sequence[str], relevant: dict[str, frozenset[str]],
             installed: int, largest: list[tuple[str, int]]) -> StackFigures:
    lat = latency_summary(raw["latencies_ms"])
    floor, over_floor = floor_figures(lat["p50"], raw.get("encode_ms", []))
    return StackFigures(
        start_to_first_answer_s=float(raw["start_to_first_answer_s"]),
        peak_rss_mb=float(raw["peak_rss_mb"]),
        rss_at_first_answer_mb=float(raw["rss_at_first_answer_mb"]),
        anon_rss_end_mb=float(raw.get("anon_rss_end_mb", 0.0)),
        p50_ms=lat["p50"], p95_ms=lat["p95"], p99_ms=lat["p99"], mean_ms=lat["mean"],
        throughput_qps=float(raw["throughput_qps"]),
        throughput_errors=int(raw["throughput_errors"]),
        installed_mb=installed / MB,
        largest_installed=[(name, round(size / MB, 1)) for name, size in largest],
        recall_at_5_dev=recall_at_5(queries, raw["top5"], relevant),
        first_answer=raw.get("first_answer"),
        encode_floor_p50_ms=floor,
        p50_over_floor=over_floor,
    )


def _largest(figures: StackFigures) -> str:
    return ", ".join(f"{name} {size:.0f}" for name, size in figures.largest_installed)


def _notes(ours_raw: dict[str, Any], ours: StackFigures, seed: StackFigures, ours_missing: list[str],
           seed_missing: list[str], n_latency: int, settings: Settings) -> list[str]:
    torch_version = _version("torch")
    notes = [
        "each stack ran in its own process; start to first answer is from the parent spawning it to the "
        "first search answered (search stack only: the chat framework's import is left out of both)",
        f"ours: {settings.query_encoder} query encoder + Qdrant Edge, hybrid retrieval and ranking, queries "
        "through the async SearchService.search (micro-batcher) as the bots call it; seed: "
        "SentenceTransformer on torch + QdrantClient(path=...) local mode, overview-only vectors, cosine "
        "top-5 via query_points; seed throughput = 64 threads calling its sync search",
        f"seed installed size is with the CPU torch wheel (torch {torch_version}); a default Linux "
        "`pip install torch` adds several GB of CUDA libraries",
        f"largest installed, MB: ours: {_largest(ours)}; seed: {_largest(seed)}",
        "MB = 2^20 bytes; peak RSS is the process's VmHWM, file-backed pages included (shared libraries, the "
        "memory-mapped model weights and index, which the kernel can drop and reread); anonymous RSS is the rest",
    ]
    if ours.encode_floor_p50_ms is not None:
        notes.append("ours: the encode floor is each latency query's text encoded alone (tokens to vector, the "
                     "same model threads, no batcher, index or ranking), just before or after its search in turn")
    warm = ours_raw.get("warm_up_after_first_answer_s")
    if warm is not None:
        notes.append(f"ours: latency and throughput were measured after the service's warm-up (speller, title "
                     f"index, a few searches), which the first answer starts and does not wait for: {warm:.2f} s")
    hits = ours_raw.get("throughput_cache_hits")
    if hits:
        notes.append(f"ours: {hits} throughput queries were answered from the query-vector cache")
    for name, figures in (("ours", ours), ("seed", seed)):
        if figures.throughput_errors:
            notes.append(f"{name}: {figures.throughput_errors} queries failed during the concurrent run")
    for name, missing in (("ours", ours_missing), ("seed", seed_missing)):
        if missing:
            notes.append(f"{name}: not installed here, so not counted: {', '.join(missing)}")
    if n_latency < MIN_LATENCY_QUERIES:
        notes.append(f"only {n_latency} latency queries: the issue asks for at least {MIN_LATENCY_QUERIES}")
    if settings.qdrant_url:
        notes.append("QDRANT_URL is set: ours queried the server; the seed used the local bundle's catalog")
    return notes


def _version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"
