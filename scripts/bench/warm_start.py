"""Does reading the index files ahead still pay? Fresh processes with and without it, alternating.

    python -m scripts.bench.warm_start [--pairs 5] [--queries 300] [--json]

Each run is the bench's own worker (`scripts.bench.worker`, our stack) in a fresh process, after the shard's
files are dropped from the page cache, which is where a restarted bot starts (closing a shard drops them
too). In the "warm" arm the service runs as shipped: its warm-up, which the first answer starts, asks the
kernel to read ahead the files searches use (`core.index.edge.readahead`); in the "cold" arm that one step is
left out. Which arm goes first turns from pair to pair, so the VM's drift hits both alike. Printed: each arm's
start to first answer, RSS at first answer, p50, p99 and throughput, as medians over its runs and per pair.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ARMS = ("warm", "cold")
FIGURES = ("start_to_first_answer_s", "rss_at_first_answer_mb", "peak_rss_mb", "p50_ms", "p99_ms",
           "throughput_qps")


def arm_order(pair: int) -> tuple[str, str]:
    """Which arm runs first in a pair: turns every pair."""
    return ARMS if pair % 2 == 0 else (ARMS[1], ARMS[0])


def summarize(runs: Sequence[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Median of each figure per arm, and how many pairs the warm arm won on each (lower is better, except
    throughput)."""
    out: dict[str, dict[str, float]] = {}
    for arm in ARMS:
        mine = [r for r in runs if r["arm"] == arm]
        out[arm] = {f: statistics.median(r[f] for r in mine) for f in FIGURES} if mine else {}
    wins: dict[str, float] = {}
    pairs = sorted({r["pair"] for r in runs})
    for figure in FIGURES:
        won = 0
        for pair in pairs:
            by_arm = {r["arm"]: r[figure] for r in runs if r["pair"] == pair}
            if len(by_arm) == 2:
                better = by_arm["warm"] > by_arm["cold"] if figure == "throughput_qps" else \
                    by_arm["warm"] < by_arm["cold"]
                won += better
        wins[figure] = won
    out["warm_wins"] = wins
    return out


def _child(arm: str, plan_file: str) -> int:
    """Run the bench worker in this process; in the cold arm, the index does not read ahead."""
    if arm == "cold":
        from core.index import edge

        def no_readahead(self: edge.EdgeMovieIndex) -> None:
            return None

        edge.EdgeMovieIndex.prefetch = no_readahead  # type: ignore[method-assign]
    from scripts.bench.worker import main

    return main([sys.argv[0], plan_file])


def _run(arm: str, pair: int, plan: dict[str, Any], tmp: Path, env: dict[str, str]) -> dict[str, Any]:
    import subprocess
    import time

    from core.index.bundle import BundleStore
    from core.index.edge import SHARD_DIR
    from scripts.bench.report import latency_summary
    from scripts.bench.scale import evict_from_page_cache
    from scripts.bench.worker import LAUNCH_ENV, RESULT_PREFIX

    evict_from_page_cache(BundleStore(Path(env["INDEX_PATH"])).require_live() / SHARD_DIR)
    plan_file = tmp / "plan.json"
    plan_file.write_text(json.dumps(dict(plan, stack="ours")), encoding="utf-8")
    child_env = os.environ | env | {LAUNCH_ENV: repr(time.time())}
    proc = subprocess.run([sys.executable, "-m", "scripts.bench.warm_start", "--child", arm, str(plan_file)],
                          env=child_env, capture_output=True, text=True, check=False, timeout=1800)
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            raw = json.loads(line[len(RESULT_PREFIX):])
            lat = latency_summary(raw["latencies_ms"])
            return {"arm": arm, "pair": pair, "p50_ms": lat["p50"], "p99_ms": lat["p99"],
                    **{f: float(raw[f]) for f in FIGURES if f in raw}}
    raise RuntimeError(f"the {arm} run failed:\n" + "\n".join(proc.stderr.splitlines()[-10:]))


def format_summary(summary: dict[str, dict[str, float]], pairs: int) -> str:
    lines = [f"{'':28}{'warm (fadvise)':>16}{'cold':>12}  warm better in"]
    for figure in FIGURES:
        warm, cold = summary["warm"][figure], summary["cold"][figure]
        lines.append(f"{figure:28}{warm:>16.3f}{cold:>12.3f}  {summary['warm_wins'][figure]:.0f}/{pairs} pairs")
    lines.append("- medians over each arm's runs; fresh processes, the shard's files dropped from the page cache "
                 "before each")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.bench.warm_start",
                                     description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--queries", type=int, default=300, help="latency queries per run")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", nargs=2, metavar=("ARM", "PLAN"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return _child(*args.child)

    from core.settings import load_settings
    from scripts.bench.runner import prepare_workload

    settings = load_settings()
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="movie-bot-warm-") as tmp_name:
        tmp = Path(tmp_name)
        work = prepare_workload(settings, args.queries, tmp)
        for pair in range(args.pairs):
            for arm in arm_order(pair):
                runs.append(_run(arm, pair, work.plan, tmp, work.env(settings)))
                sys.stderr.write(f"warm_start: pair {pair + 1}/{args.pairs} {arm}: {runs[-1]}\n")
    summary = summarize(runs)
    if args.json:
        sys.stdout.write(json.dumps({"runs": runs, "summary": summary}) + "\n")
    else:
        sys.stdout.write(format_summary(summary, args.pairs) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
