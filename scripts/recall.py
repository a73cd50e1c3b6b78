"""Recall before ranking: how often the intended film is among each retriever's candidates at all.

    python -m scripts.recall [--queries eval/dev_queries.jsonl ...] [--misses]

Reads the embedded bundle at INDEX_PATH. Per query it finds the film's rank in each retriever over the whole
catalog: dense (exact cosine against every stored vector), sparse (BM25), each within the query's years when it
gives some, and dense among the well-known films; then whether the film is among the candidates ranking really
sees (`SearchService.candidates_for`). A film missing there cannot be found by any ranking weights.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from qdrant_edge import Query, QueryBatchRequest, QueryRequest, ScoredPoint, SparseVector

from core.bootstrap import build_search_service
from core.index.edge import VECTOR_KEYS_FILE, VECTORS_FILE, EdgeMovieIndex, year_filter
from core.index.port import SPARSE, WELL_KNOWN_VOTES
from core.query_text import clean_query
from core.settings import load_settings
from scripts.evaluate import load_queries

CUTOFFS = (10, 30, 60, 100, 200)
SPARSE_DEPTH = 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=Path, nargs="+",
                        default=[Path("eval/dev_queries.jsonl"), Path("eval/test_queries.jsonl")])
    parser.add_argument("--misses", action="store_true", help="list the queries whose film is not a candidate")
    parser.add_argument("--candidates", type=int, help="per retriever (default: the service's)")
    parser.add_argument("--well-known", type=int, help="well-known films' dense top (default: the service's)")
    args = parser.parse_args()
    import json

    service = build_search_service(load_settings())
    if args.candidates is not None:
        service.candidates = args.candidates
    if args.well_known is not None:
        service.well_known = args.well_known
    index = service.index
    if not isinstance(index, EdgeMovieIndex):
        raise SystemExit("scripts.recall reads an embedded bundle (unset QDRANT_URL)")
    live = index.bundle_dir
    matrix = np.load(live / VECTORS_FILE)
    matrix = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
    keys = [k for k, _ in json.loads((live / VECTOR_KEYS_FILE).read_text(encoding="utf-8"))]
    facts = {f.imdb_id: f for f in index.catalog_facts()}
    years = np.array([np.nan if facts[k].year is None else facts[k].year for k in keys])
    famous = np.array([facts[k].vote_count >= WELL_KNOWN_VOTES for k in keys])
    row = {k: i for i, k in enumerate(keys)}
    shard = index._shard  # a measuring script: the retrievers one by one, which the port does not offer

    for path in args.queries:
        queries = load_queries(path)
        intents = [service.intent_for(clean_query(q.query)) for q in queries]
        vectors = service.encoder.encode([i.dense_text for i in intents])
        results: list[dict[str, float]] = []
        for q, intent, vector in zip(queries, intents, vectors, strict=True):
            target = [row[i] for i in q.imdb_ids if i in row]
            cos = matrix @ (vector / np.linalg.norm(vector))
            order = np.argsort(-cos)
            where = {int(i): r for r, i in enumerate(order, start=1)}
            ranks: dict[str, float] = {"dense": min(where[t] for t in target)}
            sv = service.sparse.query(intent.lexical_text)
            sparse_q = Query.Nearest(SparseVector(indices=sv.indices, values=sv.values), using=SPARSE)
            requests = [QueryRequest(limit=SPARSE_DEPTH, query=sparse_q, with_payload=False)]
            flt = year_filter(intent.year_range)
            if flt is not None:
                requests.append(QueryRequest(limit=SPARSE_DEPTH, query=sparse_q, filter=flt, with_payload=False))
            answers = shard.query_batch(QueryBatchRequest(requests))
            target_ids = set(q.imdb_ids)

            def rank_in(points: Sequence[ScoredPoint], target_ids: set[str] = target_ids) -> float:
                for r, p in enumerate(points, start=1):
                    if index.catalog_facts()[int(p.id)].imdb_id in target_ids:
                        return float(r)
                return float("inf")

            ranks["sparse"] = rank_in(answers[0])
            if flt is not None and intent.year_range is not None:
                low, high = intent.year_range
                inside = (years >= low) & (years <= high)
                sub = order[inside[order]]
                ranks["dense in years"] = next((r for r, i in enumerate(sub, start=1) if i in target), float("inf"))
                ranks["sparse in years"] = rank_in(answers[1])
            sub = order[famous[order]]
            ranks["dense well-known"] = next((r for r, i in enumerate(sub, start=1) if i in target), float("inf"))
            candidates, _ = service.candidates_for(intent, vector)
            ranks["candidates"] = 1.0 if target_ids & {f.imdb_id for f in candidates.facts} else float("inf")
            ranks["_famous"] = 1.0 if q.group == "famous" else 0.0
            results.append(ranks)
        print(f"{path} ({len(queries)} queries): share of queries whose film is within the top N")
        for group, keep in (("all", lambda r: True), ("famous", lambda r: r["_famous"] == 1.0),
                            ("little-known", lambda r: r["_famous"] == 0.0)):
            sel = [r for r in results if keep(r)]
            print(f"  {group} (n={len(sel)})")
            for name in ("dense", "sparse", "dense in years", "sparse in years", "dense well-known"):
                have = [r[name] for r in sel if name in r]
                if have:
                    shares = "  ".join(f"@{n} {sum(1 for x in have if x <= n) / len(have):.3f}" for n in CUTOFFS)
                    print(f"    {name:<17} n={len(have):<4} {shares}")
            seen = sum(1 for r in sel if r["candidates"] == 1.0) / len(sel)
            print(f"    {'candidates':<17} n={len(sel):<4} {seen:.3f}  (what ranking sees: {service.candidates} per "
                  f"retriever, {service.well_known} well-known)")
        if args.misses:
            for q, r in zip(queries, results, strict=True):
                if r["candidates"] != 1.0:
                    print(f"  miss: dense #{r['dense']:.0f} sparse #{r['sparse']:.0f}  {q.query}")
    index.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
