"""Experiment (issue 15): does pseudo-relevance feedback on the dense side rank better?

    INDEX_PATH=data/index python -m scripts.experiments.feedback [--depths 3 5] [--seeds 1 2 3 4 5]

Hypothesis: a query describes a film in other words than its overview, but the films the ranking already puts
first are often of the same kind (the same story told again, the same setting), so the centroid of the top few
candidates' document vectors points nearer the film meant than the query vector alone (Rocchio feedback, as in
classic retrieval). Each candidate gets two new signals: `fb`, the cosine of its document vector with that
centroid, and `fb_query`, its cosine with the query vector moved halfway towards the centroid. The top few are
taken by the shipped ranking (the weights in core/ranking_weights.json) over the real search path's candidates;
the document vectors come from the bundle's `vectors.npy` (the ingest cache, so a full bundle, not a compacted
one). The fit and the report are `scripts.experiments.sentence_vectors`'s (same folds, splits and keep rule).
"""

from __future__ import annotations

import json
import time
from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

import core.ranking
import scripts.fit_ranking as fitting
from core.bootstrap import open_search_service
from core.index.bundle import BundleStore
from core.index.edge import VECTORS_FILE
from core.settings import load_settings
from scripts.evaluate import load_queries
from scripts.experiments import experiment_parser
from scripts.experiments.sentence_vectors import compare, query_styles, report

# How far the moved query goes towards the centroid (0: the query, 1: the centroid).
TOWARDS = 0.5


def unit(v: NDArray[np.float64]) -> NDArray[np.float64]:
    norm = float(np.linalg.norm(v))
    return v / norm if norm > 0 else v


def feedback_columns(docs: NDArray[np.float32], query: NDArray[np.float32], fused: NDArray[np.float64],
                     depth: int) -> NDArray[np.float64]:
    """Per candidate (rows of `docs`, unit vectors): its cosine with the centroid of the `depth` best by `fused`,
    and with the query moved `TOWARDS` that centroid."""
    d = np.asarray(docs, dtype=np.float64)
    top = np.argsort(-fused, kind="stable")[:depth]
    centroid = unit(d[top].mean(axis=0))
    moved = unit((1 - TOWARDS) * unit(np.asarray(query, dtype=np.float64)) + TOWARDS * centroid)
    return np.column_stack([d @ centroid, d @ moved])


def main() -> int:
    parser = experiment_parser(__doc__)
    parser.add_argument("--depths", nargs="+", type=int, default=[3, 5])
    args = parser.parse_args()

    started = time.perf_counter()
    settings = load_settings()
    dev_queries, test_queries = load_queries(args.dev), load_queries(args.test)
    vectors = np.load(BundleStore(settings.index_path).require_live() / VECTORS_FILE, mmap_mode="r")
    with open_search_service(settings) as service:
        row_of = {f.imdb_id: r for r, f in enumerate(service.index.catalog_facts())}
        weights = np.array(service.ranker.weights.values)
        collected = [(rows, np.asarray(vectors[[row_of[i] for i in rows.ids]]), vector)
                     for rows, _, vector in fitting.candidate_rows(service, dev_queries + test_queries)]
    print(f"candidates collected in {time.perf_counter() - started:.0f} s")
    cut = len(dev_queries)
    base = core.ranking.FEATURES
    styles = query_styles(args.dev) + query_styles(args.test)
    before = report("before (the shipped features)", [r for r, _, _ in collected[:cut]],
                    [r for r, _, _ in collected[cut:]], args.folds, base, args.seeds)
    for depth in args.depths:
        rows = [replace(r, features=np.column_stack([r.features, feedback_columns(docs, q, r.features @ weights,
                                                                                   depth)]))
                for r, docs, q in collected]
        after = report(f"+ feedback from the top {depth}", rows[:cut], rows[cut:], args.folds,
                       (*base, "fb", "fb_query"), args.seeds)
        compare(f"top {depth}", before, after, styles)
    print(json.dumps({"elapsed_s": round(time.perf_counter() - started)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
