"""`movie-bot bench-scale`: the scale curve, on synthetic catalogs built from the real one.

For each size, in fresh processes: publish a synthetic catalog through the Edge builder and BundleStore (as
ingest does, without the model), then open it as the bot does and measure start to first answer, resident
memory, lone-search latency split into the encoder's part and the index's part, throughput at 64
concurrent, and how much of the exact nearest neighbours the approximate dense search finds (exact = numpy
on the same vectors). Optionally the same catalog is answered again under memory caps (cgroups, root only),
and through qdrant-client's local mode as a stand-in for a Qdrant server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from core.errors import BadInput, IndexMismatch, MovieBotError
from core.index.bundle import BundleStore
from core.index.edge import LARGE_CATALOG, LARGE_CATALOG_EF, VECTORS_FILE, ShardTuning
from core.index.manifest import IndexManifest
from core.settings import Settings
from scripts.bench.measure import percentile
from scripts.bench.queries import WARMUP_QUERY
from scripts.bench.runner import CONCURRENCY, prepare_workload
from scripts.bench.scale_worker import LAUNCH_ENV, RESULT_PREFIX

RECALL_K = (10, 60)
EF_VALUES: tuple[int | None, ...] = (None, 64, 128, 256)
SERVER_MAX = 10_000
# Local mode scans every point in Python for each query (about a second a query at 2,000 movies on this VM),
# so it answers only this many lone queries and this many concurrent ones.
SERVER_QUERIES = 24
STEP_TIMEOUT_S = 4 * 3600
MB = 1024 * 1024


class ScaleStepFailed(MovieBotError):
    """A build or measuring process failed; the message carries the end of its stderr."""


def parse_sizes(text: str) -> list[int]:
    """'10000,100k,1M' -> [10000, 100000, 1000000]; BadInput on anything else."""
    sizes = []
    for part in text.split(","):
        token = part.strip().lower().replace("_", "")
        scale = {"k": 1_000, "m": 1_000_000}.get(token[-1:], 1)
        digits = token[:-1] if scale > 1 else token
        if not digits.isdigit() or int(digits) * scale < 1:
            raise BadInput(f"--sizes takes positive numbers separated by commas (like 10000,100k,1M), not {part!r}.")
        sizes.append(int(digits) * scale)
    return sizes


def exact_top_k(vectors: NDArray[np.float32], queries: NDArray[np.float32], k: int,
                chunk: int = 65_536) -> NDArray[np.int64]:
    """Row numbers of each query's k nearest vectors by cosine, best first: numpy brute force, in chunks."""
    q = queries / np.clip(np.linalg.norm(queries, axis=1, keepdims=True), 1e-12, None)
    k = min(k, len(vectors))
    best_scores = np.full((len(q), 0), -np.inf, dtype=np.float32)
    best_rows = np.zeros((len(q), 0), dtype=np.int64)
    for start in range(0, len(vectors), chunk):
        block = np.asarray(vectors[start : start + chunk], dtype=np.float32)
        block = block / np.clip(np.linalg.norm(block, axis=1, keepdims=True), 1e-12, None)
        scores = np.concatenate([best_scores, q @ block.T], axis=1)
        rows = np.concatenate([best_rows, np.broadcast_to(np.arange(start, start + len(block)), (len(q), len(block)))],
                              axis=1)
        keep = np.argpartition(-scores, k - 1, axis=1)[:, :k] if scores.shape[1] > k else \
            np.argsort(-scores, axis=1)
        best_scores = np.take_along_axis(scores, keep, axis=1)
        best_rows = np.take_along_axis(rows, keep, axis=1)
    order = np.argsort(-best_scores, axis=1, kind="stable")
    result: NDArray[np.int64] = np.take_along_axis(best_rows, order, axis=1)
    return result


def recall_at(found: Sequence[Sequence[int]], exact: NDArray[np.int64], k: int) -> float:
    """Mean share of each query's exact top k that the approximate top k holds, in [0, 1]."""
    if not len(found):
        raise ValueError("recall of no queries")
    shares = [len(set(list(ids)[:k]) & set(row[:k].tolist())) / min(k, len(row))
              for ids, row in zip(found, exact, strict=True)]
    return float(sum(shares) / len(shares))


def _summary(values: Sequence[float]) -> dict[str, float]:
    return {"p50": percentile(values, 50), "p99": percentile(values, 99)}


def bundle_size_mb(path: Path) -> float:
    """Bytes on disk of everything in a bundle (allocated blocks: sparse files count what they use)."""
    total = 0
    for item in path.rglob("*"):
        if item.is_file() and not item.is_symlink():
            total += item.stat().st_blocks * 512
    return total / MB


@dataclass(frozen=True)
class CapRun:
    limit_mb: int
    finished: bool
    oom_kills: int
    p50_ms: float | None = None
    p99_ms: float | None = None
    throughput_qps: float | None = None


@dataclass
class SizeFigures:
    """Everything measured for one catalog size on one backend."""

    size: int
    backend: str
    build_s: float | None  # None: a kept bundle, measured again (--reuse)
    bundle_mb: float | None
    start_to_first_answer_s: float | None
    rss_at_first_answer_mb: float
    peak_rss_mb: float
    anon_rss_end_mb: float
    search_ms: dict[str, float]
    encode_ms: dict[str, float]
    index_ms: dict[str, float]
    throughput_qps: float
    index_throughput_qps: float
    throughput_errors: int
    dense: dict[str, dict[str, float]] = field(default_factory=dict)  # hnsw_ef -> p50/p99 ms, recall@k
    build: dict[str, float] = field(default_factory=dict)
    caps: list[CapRun] = field(default_factory=list)
    tuning: dict[str, Any] = field(default_factory=dict)
    sparse_cpu_p50_ms: float | None = None  # the sparse retriever alone, the searching thread's CPU time


def figures_from(raw: dict[str, Any], size: int, backend: str, build: dict[str, Any], bundle_mb: float | None,
                 exact: NDArray[np.int64] | None) -> SizeFigures:
    """The raw measurements of a serving process, summarized; recall against `exact` where it was measured."""
    dense: dict[str, dict[str, float]] = {}
    for ef, run in raw.get("dense", {}).items():
        entry = dict(_summary(run["ms"]))
        if run.get("cpu_ms"):
            entry["cpu_p50"] = percentile(run["cpu_ms"], 50)
        if exact is not None:
            for k in RECALL_K:
                entry[f"recall@{k}"] = recall_at(run["ids"], exact, k)
        dense[ef] = entry
    start = raw.get("start_to_first_answer_s")
    return SizeFigures(
        size=size, backend=backend, build_s=_build_seconds(build, raw),
        bundle_mb=bundle_mb, start_to_first_answer_s=None if start is None else float(start),
        rss_at_first_answer_mb=raw["at_first_answer"]["rss_mb"], peak_rss_mb=raw["at_end"]["peak_rss_mb"],
        anon_rss_end_mb=raw["at_end"]["anon_rss_mb"],
        search_ms=_summary(raw["search_ms"]), encode_ms=_summary(raw["encode_ms"]),
        index_ms=_summary(raw["index_ms"]) | ({"cpu_p50": percentile(raw["index_cpu_ms"], 50)}
                                              if raw.get("index_cpu_ms") else {}),
        throughput_qps=float(raw["throughput_qps"]),
        index_throughput_qps=float(raw["index_throughput_qps"]), throughput_errors=int(raw["throughput_errors"]),
        dense=dense, build={k: float(v) for k, v in build.items()},
        sparse_cpu_p50_ms=percentile(raw["sparse_cpu_ms"], 50) if raw.get("sparse_cpu_ms") else None,
    )


def _build_seconds(build: dict[str, Any], raw: dict[str, Any]) -> float | None:
    seconds = build.get("build_s", raw.get("build_s"))
    return None if seconds is None else float(seconds)


def _progress(message: str) -> None:
    sys.stderr.write(f"bench-scale: {message}\n")
    sys.stderr.flush()


def run_step(spec: dict[str, Any], tmp: Path, preexec: Callable[[], None] | None = None,
             nice: int = 0) -> dict[str, Any]:
    """One step in a fresh process; its parsed result line."""
    spec_file = tmp / f"{spec['step']}-{spec['size']}-{time.monotonic_ns()}.json"
    spec_file.write_text(json.dumps(spec), encoding="utf-8")

    def child_setup() -> None:
        if nice:
            os.nice(nice)
        if preexec is not None:
            preexec()

    env = os.environ | {LAUNCH_ENV: repr(time.time())}
    try:
        proc = subprocess.run([sys.executable, "-m", "scripts.bench.scale_worker", str(spec_file)], env=env,
                              capture_output=True, text=True, timeout=STEP_TIMEOUT_S, check=False,
                              preexec_fn=child_setup)
    except subprocess.TimeoutExpired:
        raise ScaleStepFailed(f"{spec['step']} at {spec['size']:,} did not finish in {STEP_TIMEOUT_S} s") from None
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            result: dict[str, Any] = json.loads(line[len(RESULT_PREFIX):])
            return result
    tail = "\n".join(proc.stderr.strip().splitlines()[-12:])
    raise ScaleStepFailed(f"{spec['step']} at {spec['size']:,} failed (exit code {proc.returncode}):\n{tail}")


def evict_from_page_cache(path: Path) -> None:
    """Drop a bundle's clean pages from the page cache (only its files: other processes keep theirs), so a
    capped run reads and is charged for what it uses."""
    os.sync()
    for item in path.rglob("*"):
        if item.is_file() and not item.is_symlink():
            fd = os.open(item, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def _check_cgroups() -> None:
    """BadInput before anything is built when memory caps cannot be set here."""
    from scripts.bench.memory_limit import CgroupUnavailable, MemoryCgroup

    try:
        MemoryCgroup.create(f"movie-bot-scale-{os.getpid()}-probe", 1024 * MB).remove()
    except CgroupUnavailable as exc:
        raise BadInput(f"--caps-mb needs root and the cgroup memory controller ({exc}).") from None


def _capped(limit_mb: int, spec: dict[str, Any], tmp: Path, bundle: Path) -> CapRun:
    from scripts.bench.memory_limit import MemoryCgroup

    group = MemoryCgroup.create(f"movie-bot-scale-{os.getpid()}-{limit_mb}", limit_mb * MB)
    try:
        evict_from_page_cache(bundle)
        try:
            raw = run_step(dict(spec, recall=False), tmp, preexec=group.enter)
        except ScaleStepFailed:
            return CapRun(limit_mb, False, group.oom_kills())
        search = _summary(raw["search_ms"])
        return CapRun(limit_mb, True, group.oom_kills(), search["p50"], search["p99"], float(raw["throughput_qps"]))
    finally:
        group.remove()


@dataclass(frozen=True)
class ScaleOptions:
    sizes: list[int]
    queries: int = 300
    throughput_queries: int = 640
    tuning: ShardTuning = field(default_factory=ShardTuning)
    caps_mb: list[int] = field(default_factory=list)
    server_max: int = SERVER_MAX
    nice: int = 0
    keep: Path | None = None
    reuse: bool = False


def run_scale(settings: Settings, options: ScaleOptions, as_json: bool = False) -> int:
    with tempfile.TemporaryDirectory(prefix="movie-bot-scale-") as tmp_name:
        tmp = Path(tmp_name)
        report = measure_curve(settings, options, tmp)
    sys.stdout.write((json.dumps(report) if as_json else format_report(report)) + "\n")
    return 0


def measure_curve(settings: Settings, options: ScaleOptions, tmp: Path) -> dict[str, Any]:
    source = BundleStore(settings.index_path).require_live()
    if options.caps_mb:
        _check_cgroups()
    work = prepare_workload(settings, options.queries, tmp)
    throughput = work.throughput_queries[: options.throughput_queries]
    base = {"source": str(source), "warmup": WARMUP_QUERY, "latency_queries": work.latency_queries,
            "throughput_queries": throughput, "concurrency": CONCURRENCY,
            "ef_values": list(EF_VALUES), "recall_k": max(RECALL_K), "collection": "movies",
            "tuning": asdict(options.tuning)}
    sizes: list[SizeFigures] = []
    for size in options.sizes:
        root = (options.keep or tmp) / f"scale-{size}"
        index_path = root / "index"
        kept = _kept_bundle(index_path, size) if options.reuse else None
        if kept is not None:
            _progress(f"{size:,} movies: measuring the bundle kept at {kept} (not rebuilt)")
            build: dict[str, Any] = {}
        else:
            _progress(f"{size:,} movies: building (Qdrant Edge, {options.tuning})")
            build = run_step(dict(base, step="build", size=size, index_path=str(index_path)), tmp, nice=options.nice)
        bundle = BundleStore(index_path).require_live()
        vectors_file = tmp / f"queries-{size}.npy"
        spec = dict(base, step="serve", size=size, index_path=str(index_path), query_vectors=str(vectors_file))
        if build:
            _progress(f"{size:,} movies: built in {build['build_s']:.0f} s; measuring in a fresh process")
        raw = run_step(spec, tmp, nice=options.nice)
        exact = exact_top_k(np.load(bundle / VECTORS_FILE, mmap_mode="r"), np.load(vectors_file),
                            max(RECALL_K))
        figures = figures_from(raw, size, "qdrant-edge", build, bundle_size_mb(bundle), exact)
        figures.tuning = asdict(options.tuning)
        for limit in options.caps_mb:
            _progress(f"{size:,} movies: again under a {limit} MB memory cap")
            figures.caps.append(_capped(limit, spec, tmp, bundle))
        sizes.append(figures)
        if options.keep is None:
            import shutil

            shutil.rmtree(root, ignore_errors=True)
        if size <= options.server_max:
            _progress(f"{size:,} movies: qdrant-client local mode (in memory)")
            local = run_step(dict(base, step="server", size=size, index_path=str(tmp / f"server-{size}" / "index"),
                                  latency_queries=work.latency_queries[:SERVER_QUERIES],
                                  throughput_queries=throughput[:SERVER_QUERIES]), tmp, nice=options.nice)
            sizes.append(figures_from(local, size, "qdrant-client local (brute force)", {}, None, None))
    return {"catalog_source": str(source), "latency_queries": len(work.latency_queries),
            "throughput_queries": len(throughput), "concurrency": CONCURRENCY,
            "sizes": [asdict(s) for s in sizes], "notes": _notes(options)}


def _kept_bundle(index_path: Path, size: int) -> Path | None:
    """The live bundle an earlier `--keep` run left at `index_path`, if it holds `size` movies in this
    version's format (a million takes an hour to build)."""
    live = BundleStore(index_path).live_dir()
    if live is None:
        return None
    try:
        manifest = IndexManifest.read(live)
        manifest.require_current()
    except (OSError, ValueError, TypeError, IndexMismatch):
        return None
    return live if manifest.points == size else None


def _notes(options: ScaleOptions) -> list[str]:
    return [
        "synthetic catalogs: the real movies first, then variants of them (vector moved towards another film's "
        "plus noise; text, names and facts mixed the same way), published through the Edge builder and "
        "BundleStore as ingest does",
        "each size is built in one process and measured in a fresh one; RSS is VmRSS/VmHWM and includes "
        "memory-mapped index files, which the kernel can drop and reread; anon = RssAnon",
        "search = a whole lone search (SearchService.search); encode = the model alone on the same text; "
        "index = the retrieval (dense + sparse, both stages) alone on precomputed vectors; throughput = whole "
        f"searches at {CONCURRENCY} concurrent, index throughput = retrieval alone on {CONCURRENCY} threads; "
        "CPU = the searching thread's CPU time, which leaves out waits for a core on a busy machine",
        "dense = the dense retriever alone, top 60 as a search asks, at each hnsw_ef (default = what searches "
        f"use: Qdrant's, the oversampled limit, below {LARGE_CATALOG:,} movies, ef {LARGE_CATALOG_EF} from "
        "there); recall@k = share of numpy's exact top k it finds",
        "qdrant-client local mode is a brute-force stand-in for a Qdrant server (no HNSW, no quantization, "
        f"everything in Python objects), at sizes up to {options.server_max:,} and on only {SERVER_QUERIES} "
        "queries of each kind: its figures say nothing about a real server's speed",
    ]


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def format_report(report: dict[str, Any]) -> str:
    lines = [f"movie-bot bench-scale: {report['latency_queries']} lone queries, {report['throughput_queries']} "
             f"more at {report['concurrency']} concurrent", ""]
    head = ("movies", "backend", "build", "on disk", "start", "RSS first/peak/anon", "search p50/p99",
            "encode p50", "index p50/p99 (CPU p50)", "q/s", "index q/s", "dense recall@10/@60 (p50, CPU p50)")
    rows = [head]
    for s in report["sizes"]:
        dense = s["dense"].get("default", {})
        recall = (f"{dense['recall@10']:.3f}/{dense['recall@60']:.3f} ({dense['p50']:.2f}, "
                  f"{_num(dense.get('cpu_p50'), 2)} ms)" if "recall@10" in dense else "exact")
        cpu = s["index_ms"].get("cpu_p50")
        rows.append((
            f"{s['size']:,}", s["backend"], "kept" if s["build_s"] is None else f"{s['build_s']:.0f} s",
            f"{_num(s['bundle_mb'], 0)} MB" if s["bundle_mb"] is not None else "in RAM",
            f"{_num(s['start_to_first_answer_s'], 2)} s" if s["start_to_first_answer_s"] is not None else "-",
            f"{s['rss_at_first_answer_mb']:.0f}/{s['peak_rss_mb']:.0f}/{s['anon_rss_end_mb']:.0f} MB",
            f"{s['search_ms']['p50']:.2f}/{s['search_ms']['p99']:.2f} ms", f"{s['encode_ms']['p50']:.2f} ms",
            f"{s['index_ms']['p50']:.2f}/{s['index_ms']['p99']:.2f} ms" + (f" ({cpu:.2f})" if cpu else ""),
            f"{s['throughput_qps']:.0f}",
            f"{s['index_throughput_qps']:.0f}", recall,
        ))
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    for s in report["sizes"]:
        if len(s["dense"]) > 1:
            parts = [f"ef {ef}: {d['p50']:.2f} ms (CPU {_num(d.get('cpu_p50'), 2)}), recall@10 "
                     f"{d.get('recall@10', 0):.3f}, @60 {d.get('recall@60', 0):.3f}" for ef, d in s["dense"].items()]
            lines.append(f"{s['size']:,} dense alone by hnsw_ef ({s['tuning']}): " + "; ".join(parts))
        if s.get("sparse_cpu_p50_ms") is not None:
            lines.append(f"{s['size']:,} sparse alone (BM25 top 60): CPU p50 {s['sparse_cpu_p50_ms']:.2f} ms")
        if s["build"]:
            b = s["build"]
            lines.append(f"{s['size']:,} build: points {b.get('points_s', 0):.0f} s, upserts "
                         f"{b.get('upsert_s', 0):.0f} s, optimize+publish {b.get('optimize_and_publish_s', 0):.0f} s, "
                         f"builder peak RSS {b.get('peak_rss_mb', 0):.0f} MB")
        for cap in s["caps"]:
            lines.append(f"{s['size']:,} under a {cap['limit_mb']} MB cap: "
                         + (f"finished, search p50 {_num(cap['p50_ms'], 2)} / p99 {_num(cap['p99_ms'], 2)} ms, "
                            f"{_num(cap['throughput_qps'], 0)} q/s" if cap["finished"] else "did not finish")
                         + f", OOM kills {cap['oom_kills']}")
    lines += [f"- {note}" for note in report["notes"]]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m scripts.bench.scale`: the same as `movie-bot bench-scale`, with the tuning knobs."""
    import argparse

    from core.settings import load_settings
    from scripts.bench.scale_args import add_arguments

    parser = argparse.ArgumentParser(prog="python -m scripts.bench.scale", description=(__doc__ or "").split("\n")[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run_scale(load_settings(), options_from(args), args.json)
    except MovieBotError as exc:
        sys.stderr.write(exc.user_message + "\n")
        return exc.exit_code


def options_from(args: Any) -> ScaleOptions:
    """ScaleOptions from parsed arguments (see scripts.bench.scale_args); BadInput on bad values."""
    try:
        caps = [int(c) for c in args.caps_mb.split(",") if c.strip()]
    except ValueError:
        raise BadInput("--caps-mb takes memory caps in MB separated by commas, like 256,1024.") from None
    if args.reuse and args.keep is None:
        raise BadInput("--reuse measures the bundles an earlier run kept: give their directory with --keep.")
    if args.queries < 1 or args.throughput_queries < 1:
        raise BadInput("--queries and --throughput-queries must be at least 1.")
    default = ShardTuning()
    try:
        tuning = ShardTuning(m=args.m or default.m, ef_construct=args.ef_construct or default.ef_construct,
                             quantization=args.quantization or default.quantization)
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    return ScaleOptions(sizes=parse_sizes(args.sizes), queries=args.queries,
                        throughput_queries=args.throughput_queries, tuning=tuning, caps_mb=caps,
                        server_max=args.server_max, nice=args.nice, keep=args.keep, reuse=args.reuse)


if __name__ == "__main__":
    sys.exit(main())
