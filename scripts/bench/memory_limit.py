"""Does the bot fit a small machine? Our serving stack, run under memory limits, and what it managed there.

    python -m scripts.bench.memory_limit [--limit-mb 256 200] [--queries 600] [--json]

Peak RSS overstates what the bot needs: memory-mapped model weights and index pages count in it, though the
kernel can drop them and read them again. So the workload of `movie-bot bench` runs here in a memory cgroup
with memory and swap capped at each limit, after the page cache is dropped (so that the files it reads are
charged to it), and the report says whether it finished, how often the kernel's OOM killer struck, and what
latency and throughput were left. Needs root and the cgroup memory controller (v1 or v2).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from core.settings import load_settings
from scripts.bench.report import latency_summary
from scripts.bench.runner import BenchFailed, prepare_workload, run_worker

CGROUP_ROOT = Path("/sys/fs/cgroup")
MB = 1024 * 1024


class CgroupUnavailable(RuntimeError):
    """No memory cgroup can be made here (not root, or no memory controller)."""


class MemoryCgroup:
    """A memory cgroup of our own with memory and swap capped at `limit_bytes`, on cgroup v2 or v1."""

    def __init__(self, directory: Path, v2: bool) -> None:
        self.directory = directory
        self.v2 = v2

    @classmethod
    def create(cls, name: str, limit_bytes: int, root: Path = CGROUP_ROOT) -> MemoryCgroup:
        controllers = root / "cgroup.controllers"
        v2 = controllers.is_file() and "memory" in controllers.read_text().split()
        parent = root if v2 else root / "memory"
        if not parent.is_dir():
            raise CgroupUnavailable(f"no cgroup memory controller under {root}")
        group = cls(parent / name, v2)
        try:
            group.directory.mkdir(exist_ok=True)
            if v2:
                group._write("memory.max", str(limit_bytes))
                group._write("memory.swap.max", "0")
            else:
                group._write("memory.limit_in_bytes", str(limit_bytes))
                if (group.directory / "memory.memsw.limit_in_bytes").exists():
                    group._write("memory.memsw.limit_in_bytes", str(limit_bytes))
        except OSError as exc:
            raise CgroupUnavailable(f"cannot set up {group.directory}: {exc}") from exc
        return group

    def enter(self) -> None:
        """Move the calling process in; run in the child before it execs, so the stack starts inside."""
        self._write("cgroup.procs", str(os.getpid()))

    def oom_kills(self) -> int:
        events = self.directory / ("memory.events" if self.v2 else "memory.oom_control")
        for line in events.read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
        return 0

    def peak_bytes(self) -> int | None:
        peak = self.directory / ("memory.peak" if self.v2 else "memory.max_usage_in_bytes")
        return int(peak.read_text()) if peak.is_file() else None

    def remove(self) -> None:
        self.directory.rmdir()

    def _write(self, name: str, value: str) -> None:
        (self.directory / name).write_text(value)


@dataclass(frozen=True, slots=True)
class LimitRun:
    limit_mb: int
    finished: bool
    oom_kills: int
    cgroup_peak_mb: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    throughput_qps: float | None = None
    failure: str | None = None


def drop_page_cache() -> bool:
    """Drop clean cached pages, so a run's file reads are charged to its cgroup; False if not allowed."""
    os.sync()
    try:
        Path("/proc/sys/vm/drop_caches").write_text("3")
    except OSError:
        return False
    return True


def run_under_limit(limit_mb: int, plan: dict[str, Any], env: dict[str, str], tmp: Path) -> LimitRun:
    group = MemoryCgroup.create(f"movie-bot-bench-{os.getpid()}-{limit_mb}", limit_mb * MB)
    try:
        try:
            raw = run_worker("ours", plan, tmp, env, preexec=group.enter)
        except BenchFailed as exc:
            return LimitRun(limit_mb, False, group.oom_kills(), failure=exc.user_message.splitlines()[0])
        peak = group.peak_bytes()
        lat = latency_summary(raw["latencies_ms"])
        return LimitRun(limit_mb, True, group.oom_kills(), peak / MB if peak is not None else None,
                        lat["p50"], lat["p99"], float(raw["throughput_qps"]))
    finally:
        group.remove()


def format_runs(runs: Sequence[LimitRun], cache_dropped: bool) -> str:
    def num(value: float | None, digits: int) -> str:
        return "-" if value is None else f"{value:,.{digits}f}"

    lines = [f"{'limit':>8} {'finished':>9} {'OOM kills':>10} {'cgroup peak':>12} {'p50':>9} {'p99':>9} "
             f"{'throughput':>11}"]
    for r in runs:
        lines.append(f"{r.limit_mb:>5} MB {'yes' if r.finished else 'no':>9} {r.oom_kills:>10} "
                     f"{num(r.cgroup_peak_mb, 0):>9} MB {num(r.p50_ms, 2):>6} ms {num(r.p99_ms, 2):>6} ms "
                     f"{num(r.throughput_qps, 0):>7} q/s" + (f"  ({r.failure})" if r.failure else ""))
    lines.append("- memory and swap are both capped at the limit; the cgroup peak includes the page cache it used")
    if not cache_dropped:
        lines.append("- the page cache could not be dropped first: files already cached were not charged to the "
                     "runs, so these figures flatter")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.bench.memory_limit", description=__doc__.split("\n")[0])
    parser.add_argument("--limit-mb", type=int, nargs="+", default=[256, 200])
    parser.add_argument("--queries", type=int, default=600, help="queries for the latency figures")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    settings = load_settings()
    runs: list[LimitRun] = []
    with tempfile.TemporaryDirectory(prefix="movie-bot-memory-") as tmp:
        work = prepare_workload(settings, args.queries, Path(tmp))
        cache_dropped = True
        try:
            for limit in args.limit_mb:
                cache_dropped = drop_page_cache() and cache_dropped
                runs.append(run_under_limit(limit, work.plan, work.env(settings), Path(tmp)))
        except CgroupUnavailable as exc:
            sys.stderr.write(f"Cannot limit memory here ({exc}); run as root on Linux with cgroups.\n")
            return 2
    if args.json:
        sys.stdout.write(json.dumps({"cache_dropped": cache_dropped, "runs": [asdict(r) for r in runs]}) + "\n")
    else:
        sys.stdout.write(format_runs(runs, cache_dropped) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
