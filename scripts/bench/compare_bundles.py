"""Two index bundles side by side in one process: which answers a lone query faster, and by how much.

    python -m scripts.bench.compare_bundles OTHER_INDEX_PATH [--queries 600] [--rounds 2]

Why: this shared VM's speed drifts within minutes by more than the change being judged (docs/performance.md,
"Machine"), so it does not show between two `bench` runs. Here the live bundle
(`INDEX_PATH`) and OTHER_INDEX_PATH are open at once, each with its own encoder, and the benchmark's latency
queries alternate between them one by one, so drift hits both alike. Searches go through SearchService.search,
as the bots call it. This settled several of the index choices in core.index.edge.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from core.bootstrap import build_search_service
from core.models import SearchResults
from core.search_service import SearchService
from core.settings import load_settings
from scripts.bench.queries import WARMUP_QUERY
from scripts.bench.runner import prepare_workload


@dataclass(frozen=True, slots=True)
class Comparison:
    """Each bundle's search latencies, ms, in the order they ran."""

    first: list[float]
    second: list[float]

    @property
    def difference_ms(self) -> float:
        """Median of the second minus median of the first: below 0, the second is faster."""
        return statistics.median(self.second) - statistics.median(self.first)

    def format(self, first_name: str, second_name: str) -> str:
        lines = [
            f"{name}: median {statistics.median(times):.3f} ms over {len(times)} searches"
            for name, times in ((first_name, self.first), (second_name, self.second))
        ]
        change = self.difference_ms / statistics.median(self.first) * 100
        lines.append(f"difference (second - first): {self.difference_ms:+.3f} ms ({change:+.1f}%)")
        return "\n".join(lines)


class Searcher(Protocol):
    """What `compare` needs of a search service."""

    async def search(self, query: str, *, limit: int = 5, offset: int = 0) -> SearchResults: ...


async def compare(first: Searcher, second: Searcher, queries: Sequence[str], rounds: int = 2) -> Comparison:
    """Every query on both, one at a time; who goes first swaps with each query and each round."""
    times: tuple[list[float], list[float]] = ([], [])
    services = (first, second)
    for round_ in range(rounds):
        for k, query in enumerate(queries):
            for which in ((k + round_) % 2, (k + round_ + 1) % 2):
                started = time.perf_counter()
                await services[which].search(query)
                times[which].append((time.perf_counter() - started) * 1000)
    return Comparison(*times)


async def _run(other: Path, queries: int, rounds: int) -> str:
    settings = load_settings()
    with tempfile.TemporaryDirectory(prefix="movie-bot-compare-") as tmp:
        work = prepare_workload(settings, queries, Path(tmp))
    services: list[SearchService] = []
    try:
        for path in (settings.index_path, other):
            services.append(build_search_service(load_settings(INDEX_PATH=path)))
            await services[-1].search(WARMUP_QUERY)
        result = await compare(services[0], services[1], work.latency_queries, rounds)
    finally:
        for service in services:
            await service.aclose()
    return result.format(f"live ({settings.index_path})", f"other ({other})")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.bench.compare_bundles", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("other", type=Path, help="the INDEX_PATH of the bundle to compare with the live one")
    parser.add_argument("--queries", type=int, default=600, help="latency queries (each runs on both)")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    sys.stdout.write(asyncio.run(_run(args.other, args.queries, args.rounds)) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
