"""The bench figures, their targets, and how they are printed (table or JSON)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from scripts.bench.measure import percentile


@dataclass(frozen=True, slots=True)
class StackFigures:
    start_to_first_answer_s: float
    peak_rss_mb: float
    rss_at_first_answer_mb: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    throughput_qps: float
    throughput_errors: int
    installed_mb: float
    largest_installed: list[tuple[str, float]] = field(default_factory=list)
    recall_at_5_dev: float | None = None
    first_answer: str | None = None
    anon_rss_end_mb: float = 0.0
    # The median time to encode the same latency queries alone (tokens to vector), measured alternately with
    # the searches in the same process, and search p50 over it: how close a whole search is to its floor.
    encode_floor_p50_ms: float | None = None
    p50_over_floor: float | None = None


@dataclass(frozen=True, slots=True)
class BenchReport:
    movies: int
    latency_queries: int
    dev_queries: int
    throughput_queries: int
    concurrency: int
    ours: StackFigures
    seed: StackFigures
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Metric:
    key: str
    label: str
    unit: str
    get: Callable[[StackFigures], float]
    higher_is_better: bool = False
    target: float | None = None
    digits: int = 1


METRICS: tuple[Metric, ...] = (
    Metric("start_to_first_answer_s", "start to first answer", "s", lambda f: f.start_to_first_answer_s,
           target=0.5, digits=2),
    Metric("peak_rss_mb", "peak RSS", "MB", lambda f: f.peak_rss_mb, target=200.0),
    Metric("rss_at_first_answer_mb", "  RSS at first answer", "MB", lambda f: f.rss_at_first_answer_mb),
    Metric("anon_rss_end_mb", "  anonymous RSS at end", "MB", lambda f: f.anon_rss_end_mb),
    Metric("p50_ms", "latency p50", "ms", lambda f: f.p50_ms, target=5.0, digits=2),
    Metric("p95_ms", "latency p95", "ms", lambda f: f.p95_ms, digits=2),
    Metric("p99_ms", "latency p99", "ms", lambda f: f.p99_ms, target=12.0, digits=2),
    Metric("throughput_qps", "throughput, 64 concurrent", "q/s", lambda f: f.throughput_qps,
           higher_is_better=True, target=300.0, digits=0),
    Metric("installed_mb", "installed serving deps", "MB", lambda f: f.installed_mb, target=250.0, digits=0),
)


FLOOR_TARGET = 1.3  # search p50 at most this many times the encode-only floor


def floor_figures(search_p50_ms: float, encode_ms: Sequence[float]) -> tuple[float | None, float | None]:
    """The encode-only floor's median and search p50 over it; (None, None) without encode times."""
    if not encode_ms:
        return None, None
    floor = percentile(encode_ms, 50)
    return floor, (search_p50_ms / floor if floor > 0 else None)


def _floor_target(figures: StackFigures) -> dict[str, Any] | None:
    if figures.p50_over_floor is None:
        return None
    return {"target": f"<= {FLOOR_TARGET:g} x the encode floor", "value": figures.p50_over_floor,
            "pass": figures.p50_over_floor <= FLOOR_TARGET}


def latency_summary(latencies_ms: Sequence[float]) -> dict[str, float]:
    return {
        "p50": percentile(latencies_ms, 50),
        "p95": percentile(latencies_ms, 95),
        "p99": percentile(latencies_ms, 99),
        "mean": sum(latencies_ms) / len(latencies_ms),
    }


def advantage(metric: Metric, ours: float, seed: float) -> float | None:
    """How many times better ours is: seed/ours, or ours/seed where higher is better. >1 favours ours."""
    num, den = (ours, seed) if metric.higher_is_better else (seed, ours)
    return num / den if den > 0 else None


def passes(metric: Metric, value: float) -> bool | None:
    if metric.target is None:
        return None
    return value >= metric.target if metric.higher_is_better else value <= metric.target


def to_json(report: BenchReport) -> dict[str, Any]:
    out: dict[str, Any] = {
        "catalog_movies": report.movies,
        "queries": {
            "latency": report.latency_queries, "dev": report.dev_queries,
            "generated": report.latency_queries - report.dev_queries,
            "throughput": report.throughput_queries, "concurrency": report.concurrency,
        },
        "ours": asdict(report.ours),
        "seed": asdict(report.seed),
        "ours_advantage": {},
        "targets": {},
        "notes": list(report.notes),
    }
    for m in METRICS:
        out["ours_advantage"][m.key] = advantage(m, m.get(report.ours), m.get(report.seed))
        ok = passes(m, m.get(report.ours))
        if ok is not None:
            op = ">=" if m.higher_is_better else "<="
            out["targets"][m.key] = {"target": f"{op} {m.target:g} {m.unit}", "value": m.get(report.ours),
                                     "pass": ok}
    floor = _floor_target(report.ours)
    if floor is not None:
        out["targets"]["p50_over_floor"] = floor
    out["all_targets_met"] = all(t["pass"] for t in out["targets"].values())
    return out


def _fmt(value: float, unit: str, digits: int) -> str:
    return f"{value:,.{digits}f} {unit}"


def format_table(report: BenchReport) -> str:
    head = (
        f"movie-bot bench: {report.movies:,} movies; latency over {report.latency_queries} queries one at "
        f"a time ({report.dev_queries} dev + {report.latency_queries - report.dev_queries} generated); "
        f"throughput over {report.throughput_queries} more at {report.concurrency} concurrent"
    )
    rows = [("", "ours", "seed", "ours better", "target (ours)")]
    for m in METRICS:
        ours, seed = m.get(report.ours), m.get(report.seed)
        adv = advantage(m, ours, seed)
        ok = passes(m, ours)
        target = ""
        if ok is not None:
            op = ">=" if m.higher_is_better else "<="
            target = f"{op} {m.target:g} {m.unit}  {'PASS' if ok else 'FAIL'}"
        rows.append((m.label, _fmt(ours, m.unit, m.digits), _fmt(seed, m.unit, m.digits),
                     f"{adv:.1f}x" if adv is not None else "-", target))
    floor = _floor_target(report.ours)
    if report.ours.encode_floor_p50_ms is not None:
        rows.append(("  encode alone p50 (floor)", _fmt(report.ours.encode_floor_p50_ms, "ms", 2), "-", "", ""))
    if floor is not None and report.ours.p50_over_floor is not None:
        rows.append(("  latency p50 / floor", f"{report.ours.p50_over_floor:.2f}x", "-", "",
                     f"{floor['target'].replace(' x the encode floor', 'x')}  {'PASS' if floor['pass'] else 'FAIL'}"))
    if report.ours.recall_at_5_dev is not None and report.seed.recall_at_5_dev is not None:
        rows.append((f"recall@5, dev set ({report.dev_queries})", f"{report.ours.recall_at_5_dev:.3f}",
                     f"{report.seed.recall_at_5_dev:.3f}", "", ""))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = [head, ""]
    for r in rows:
        cells = [c.rjust(w) for c, w in zip(r[1:4], widths[1:4], strict=True)]
        lines.append("  ".join([r[0].ljust(widths[0]), *cells, r[4]]).rstrip())
    met = sum(bool(passes(m, m.get(report.ours))) for m in METRICS if m.target is not None)
    total = sum(m.target is not None for m in METRICS)
    if floor is not None:
        met, total = met + bool(floor["pass"]), total + 1
    lines += ["", f"targets met: {met}/{total}. 'ours better' = seed/ours (ours/seed for throughput): "
              ">1 means ours is better."]
    lines += [f"- {note}" for note in report.notes]
    return "\n".join(lines)
