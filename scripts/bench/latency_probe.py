"""One process's search latency over a fixed query list, for comparing two code versions run alternately.

    python -m scripts.bench.latency_probe QUERIES_JSON        (a JSON list of query strings)

compare_bundles compares two bundles under the same code; when the code itself changed, run this file from each
checkout in turn (PYTHONPATH of that checkout, INDEX_PATH of its bundle), several rounds alternating, so drift of
this shared machine hits both alike. Searches go through SearchService.search, as the bots call it, one at a
time after 50 warm-up queries. Prints p50 and p90 in ms and the process's CPU time per query.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

from core.bootstrap import build_search_service
from core.settings import load_settings

WARMUP = 50


async def probe(queries: list[str]) -> dict[str, float]:
    service = build_search_service(load_settings())
    try:
        for q in queries[:WARMUP]:
            await service.search(q)
        took = []
        cpu = time.process_time()
        for q in queries:
            started = time.perf_counter()
            await service.search(q)
            took.append((time.perf_counter() - started) * 1000)
        cpu_ms = (time.process_time() - cpu) * 1000 / len(queries)
    finally:
        await service.aclose()
    took.sort()
    return {"p50": round(statistics.median(took), 3), "p90": round(took[int(0.9 * len(took))], 3),
            "cpu_ms_per_query": round(cpu_ms, 3), "n": len(took)}


def main() -> int:
    queries = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    print(json.dumps(asyncio.run(probe(queries))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
