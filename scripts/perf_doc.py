"""Rewrite the headline tables of docs/performance.md from `movie-bot bench --json` and `movie-bot eval --json`.

    movie-bot bench --json > bench.json
    movie-bot eval --queries eval/dev_queries.jsonl --json > eval.json
    python -m scripts.perf_doc bench.json eval.json [--doc docs/performance.md] [--date YYYY-MM-DD]

Only the text between the `<!-- bench:start -->` and `<!-- bench:end -->` markers is replaced (the section is
added at the end when the file has no markers), so hand-written sections around it stay as they are.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

START = "<!-- bench:start -->"
END = "<!-- bench:end -->"
DEFAULT_DOC = Path(__file__).resolve().parents[1] / "docs" / "performance.md"


@dataclass(frozen=True, slots=True)
class Row:
    key: str
    label: str
    unit: str
    digits: int


# The keys of `bench --json`'s "ours" and "seed" blocks, in the order the table shows them; absent ones are skipped.
SERVING_ROWS = (
    Row("start_to_first_answer_s", "start to first answer", "s", 2),
    Row("rss_at_first_answer_mb", "resident memory at first answer", "MB", 0),
    Row("peak_rss_mb", "peak resident memory", "MB", 0),
    Row("anon_rss_end_mb", "anonymous resident memory at the end", "MB", 0),
    Row("p50_ms", "latency p50", "ms", 2),
    Row("p95_ms", "latency p95", "ms", 2),
    Row("p99_ms", "latency p99", "ms", 2),
    Row("encode_floor_p50_ms", "encoding the same queries alone, p50", "ms", 2),
    Row("throughput_qps", "throughput", "queries/s", 0),
    Row("installed_mb", "installed serving dependencies", "MB", 0),
    Row("recall_at_5_dev", "recall@5, development set", "", 3),
)
QUALITY_KEYS = ("recall@1", "recall@5", "recall@10", "mrr@10")


class DocError(Exception):
    """The document or an input cannot be used; the message says what to fix."""


def _number(value: Any, unit: str, digits: int) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "–"
    text = f"{value:,.{digits}f}"
    return f"{text} {unit}" if unit else text


def machine() -> str:
    """This machine's cores and memory, as the section's header states them."""
    try:
        kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal:"))
        memory = f", {kib / 2**20:.0f} GB"
    except (OSError, StopIteration, ValueError):
        memory = ""
    return f"{os.cpu_count()} cores{memory}"


def serving_table(bench: Mapping[str, Any]) -> list[str]:
    ours, seed = bench.get("ours"), bench.get("seed")
    if not isinstance(ours, Mapping) or not isinstance(seed, Mapping):
        raise DocError("the bench JSON has no 'ours' and 'seed' blocks: give the output of `movie-bot bench --json`")
    advantage = bench.get("ours_advantage", {})
    targets = bench.get("targets", {})
    lines = ["| | movie-bot | torch-based seed | movie-bot better by | target |", "| --- | --- | --- | --- | --- |"]
    for row in SERVING_ROWS:
        if row.key not in ours:
            continue
        times = advantage.get(row.key)
        better = f"{times:.1f}×" if isinstance(times, int | float) else ""
        target = targets.get(row.key)
        goal = f"{target['target']}: {'met' if target['pass'] else 'missed'}" if isinstance(target, Mapping) else ""
        lines.append(f"| {row.label} | {_number(ours[row.key], row.unit, row.digits)} | "
                     f"{_number(seed.get(row.key), row.unit, row.digits)} | {better} | {goal} |")
    if isinstance(ours.get("p50_over_floor"), int | float):
        lines.append(f"| p50 over the encoding floor | {ours['p50_over_floor']:.2f}× | | | |")
    return lines


def quality_table(evaluation: Mapping[str, Any]) -> list[str]:
    if not all(key in evaluation for key in ("n", *QUALITY_KEYS)):
        raise DocError("the eval JSON lacks n, recall@1/5/10 or mrr@10: give the output of `movie-bot eval --json`")
    lines = ["| queries | n | recall@1 | recall@5 | recall@10 | MRR@10 |", "| --- | --- | --- | --- | --- | --- |"]
    blocks: list[tuple[str, Mapping[str, Any]]] = [("all", evaluation)]
    blocks += sorted(evaluation.get("groups", {}).items())
    for name, block in blocks:
        cells = " | ".join(_number(block.get(key), "", 3) for key in QUALITY_KEYS)
        lines.append(f"| {name} | {block.get('n', '–')} | {cells} |")
    return lines


def section(bench: Mapping[str, Any], evaluation: Mapping[str, Any], *, date: str, where: str) -> str:
    """The generated text between the markers (markers included)."""
    queries = bench.get("queries", {})
    concurrency = queries.get("concurrency")
    movies = bench.get("catalog_movies")
    catalog = f"{movies:,} movies" if isinstance(movies, int) else "the configured catalog"
    lines = [
        START,
        "<!-- Generated by `python -m scripts.perf_doc BENCH.json EVAL.json`: edit the script, not this section. -->",
        "",
        f"## Headline figures ({date})",
        "",
        f"Measured on {where}, {catalog}, by `movie-bot bench --json` (ours and the seed's torch stack, each in "
        f"its own process, in one run) and `movie-bot eval --queries eval/dev_queries.jsonl --json`.",
        "",
        "### Serving",
        "",
        *serving_table(bench),
        "",
    ]
    if isinstance(queries.get("latency"), int) and isinstance(queries.get("throughput"), int):
        lines += [f"Latency over {queries['latency']} queries one at a time; throughput over "
                  f"{queries['throughput']} more, {concurrency} at a time.", ""]
    lines += [f"- {note}" for note in bench.get("notes", [])]
    if bench.get("notes"):
        lines.append("")
    lines += ["### Retrieval quality", "", *quality_table(evaluation), "", END]
    return "\n".join(lines)


def rewrite(doc: str, generated: str) -> str:
    """`doc` with the marked section replaced by `generated`, or with it appended when there is none yet."""
    starts, ends = doc.count(START), doc.count(END)
    if starts == ends == 0:
        return doc.rstrip("\n") + "\n\n" + generated + "\n"
    if starts != 1 or ends != 1 or doc.index(START) > doc.index(END):
        raise DocError(f"the document must hold {START} once, then {END} once")
    head, rest = doc.split(START, 1)
    tail = rest.split(END, 1)[1]
    return head + generated + tail


def _read_json(path: Path) -> Mapping[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DocError(f"cannot read {path} as JSON: {exc}") from None
    if not isinstance(data, Mapping):
        raise DocError(f"{path} holds no JSON object")
    return data


def main(argv: Sequence[str] | None = None, out: Callable[[str], object] = print) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.perf_doc", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bench", type=Path, help="output of `movie-bot bench --json`")
    parser.add_argument("eval", type=Path, help="output of `movie-bot eval --json`")
    parser.add_argument("--doc", type=Path, default=DEFAULT_DOC)
    parser.add_argument("--date", default=dt.datetime.now(dt.UTC).date().isoformat(),
                        help="when the figures were measured (default: today, UTC)")
    parser.add_argument("--machine", default=None,
                        help="where they were measured (default: this machine's cores and memory)")
    args = parser.parse_args(argv)
    try:
        generated = section(_read_json(args.bench), _read_json(args.eval), date=args.date,
                            where=args.machine or machine())
        doc = args.doc.read_text(encoding="utf-8") if args.doc.exists() else "# Performance\n"
        args.doc.write_text(rewrite(doc, generated), encoding="utf-8")
    except DocError as exc:
        out(f"perf_doc: {exc}")
        return 2
    out(f"rewrote the headline figures in {args.doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
