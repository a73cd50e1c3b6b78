"""One stack, measured inside its own process: `python -m scripts.bench.worker PLAN.json`.

Only the standard library is imported before the stack itself, so start-up is the stack's own. The parent
sets BENCH_LAUNCH_TS (its time.time() just before spawning this process); start to first answer is taken
against it. The result is one line `BENCH-RESULT {json}` on stdout.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

RESULT_PREFIX = "BENCH-RESULT "
LAUNCH_ENV = "BENCH_LAUNCH_TS"


def _status_mb(field: str) -> float | None:
    """A memory figure of this process from /proc/self/status, in MB; None where /proc is absent."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (VmHWM; ru_maxrss where /proc is absent)."""
    peak = _status_mb("VmHWM")
    if peak is not None:
        return peak
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def anon_rss_mb() -> float:
    """Anonymous resident memory now (RssAnon): what the kernel cannot drop, unlike file-backed pages such as
    memory-mapped model weights and index files, which are part of RSS too. 0 where /proc is absent."""
    return _status_mb("RssAnon") or 0.0


class _Counting:
    """Wraps our encoder to count the texts that really reach the model (the rest were cache hits)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name: str = inner.name
        self.dim: int = inner.dim
        self.texts = 0

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> Any:
        self.texts += len(texts)
        return self.inner.encode(texts, batch_size=batch_size)


async def _run_ours(plan: dict[str, Any], launched: float) -> dict[str, Any]:
    from core.bootstrap import open_index_and_encoder, search_service_for
    from core.query_intent import parse_intent
    from core.query_text import clean_query
    from core.settings import load_settings

    index, encoder = open_index_and_encoder(load_settings())
    counting = _Counting(encoder)
    service = search_service_for(index, counting)
    first = await service.search(plan["warmup"])
    ready_s = time.time() - launched
    ready_rss = peak_rss_mb()
    # The first answer started the service's warm-up (it did not wait for it); latency and throughput are the
    # steady state after it, as a bot's users see once it has been up a second.
    warm_started = time.perf_counter()
    await service.warmed()
    warm_up_s = time.perf_counter() - warm_started

    latencies: list[float] = []
    top5: list[list[str]] = []
    encode_ms: list[float] = []
    for k, query in enumerate(plan["latency_queries"]):
        # The floor: the same query's text encoded alone, right before or after its search (in turn).
        text = parse_intent(clean_query(query)).dense_text
        if k % 2:
            encode_ms.append(_encode_alone(counting.inner, text))
        started = time.perf_counter()
        results = await service.search(query)
        latencies.append((time.perf_counter() - started) * 1000)
        top5.append([hit.movie.imdb_id for hit in results.hits])
        if not k % 2:
            encode_ms.append(_encode_alone(counting.inner, text))

    queue = list(reversed(plan["throughput_queries"]))
    errors = 0

    async def client() -> None:
        nonlocal errors
        while queue:
            query = queue.pop()
            try:
                await service.search(query)
            except Exception:
                errors += 1

    encoded_before = counting.texts
    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(plan["concurrency"])))
    wall = time.perf_counter() - started
    encoded = counting.texts - encoded_before
    await service.aclose()
    return _result(first.hits[0].movie.title if first.hits else None, ready_s, ready_rss, latencies, top5,
                   len(plan["throughput_queries"]), wall, errors,
                   {"throughput_cache_hits": len(plan["throughput_queries"]) - encoded, "encode_ms": encode_ms,
                    "warm_up_after_first_answer_s": warm_up_s})


def _encode_alone(encoder: Any, text: str) -> float:
    """ms to encode one text on the calling thread, outside the batcher: tokens to vector, nothing else."""
    started = time.perf_counter()
    encoder.encode([text])
    return (time.perf_counter() - started) * 1000


def _run_seed(plan: dict[str, Any], launched: float) -> dict[str, Any]:
    seed = plan["seed"]
    if Path(seed["model_source"]).is_dir():
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from qdrant_client import QdrantClient
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(seed["model_source"], device="cpu")
    client = QdrantClient(path=seed["qdrant_path"])
    collection = seed["collection"]

    def search(query: str) -> list[Any]:
        vector = model.encode(query, normalize_embeddings=True)
        return list(client.query_points(collection, query=vector.tolist(), limit=5, with_payload=True).points)

    first = search(plan["warmup"])
    ready_s = time.time() - launched
    ready_rss = peak_rss_mb()

    latencies: list[float] = []
    top5: list[list[str]] = []
    for query in plan["latency_queries"]:
        started = time.perf_counter()
        hits = search(query)
        latencies.append((time.perf_counter() - started) * 1000)
        top5.append([str((h.payload or {}).get("imdb_id")) for h in hits])

    errors = 0
    lock = threading.Lock()

    def guarded(query: str) -> None:
        nonlocal errors
        try:
            search(query)
        except Exception:  # e.g. a fast tokenizer used from two threads: "Already borrowed"
            with lock:
                errors += 1

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=plan["concurrency"]) as pool:
        list(pool.map(guarded, plan["throughput_queries"]))
    wall = time.perf_counter() - started
    client.close()
    title = (first[0].payload or {}).get("title") if first else None
    return _result(str(title) if title else None, ready_s, ready_rss, latencies, top5,
                   len(plan["throughput_queries"]), wall, errors, {})


def _result(first_title: str | None, ready_s: float, ready_rss: float, latencies: list[float],
            top5: list[list[str]], n_throughput: int, wall: float, errors: int,
            extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "first_answer": first_title,
        "start_to_first_answer_s": ready_s,
        "rss_at_first_answer_mb": ready_rss,
        "peak_rss_mb": peak_rss_mb(),
        "anon_rss_end_mb": anon_rss_mb(),
        "latencies_ms": latencies,
        "top5": top5,
        "throughput_queries": n_throughput,
        "throughput_wall_s": wall,
        "throughput_qps": (n_throughput - errors) / wall if wall > 0 else 0.0,
        "throughput_errors": errors,
        **extra,
    }


def main(argv: Sequence[str]) -> int:
    launched = float(os.environ.get(LAUNCH_ENV, "0")) or time.time()
    plan: dict[str, Any] = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    runners: dict[str, Callable[[], dict[str, Any]]] = {
        "ours": lambda: asyncio.run(_run_ours(plan, launched)),
        "seed": lambda: _run_seed(plan, launched),
    }
    result = runners[plan["stack"]]()
    sys.stdout.write(RESULT_PREFIX + json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
