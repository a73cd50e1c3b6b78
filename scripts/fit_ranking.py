"""Fit the ranking weights on the development set; write core/ranking_weights.json.

    python -m scripts.fit_ranking [--dev eval/dev_queries.jsonl] [--test eval/test_queries.jsonl] [--folds 5]

Every query's candidates come from the real retrieval path (the index at INDEX_PATH); each candidate is a row of
`core.ranking.FEATURES`. The fit is pairwise: for a query whose film is among the candidates, the difference
between the film's row and each other candidate's row is a positive example (and its negation a negative one),
weighted so every query counts the same; a linear model without intercept on those differences (a ranking
SVM, scikit-learn's LinearSVC; or logistic regression) gives weights whose sum ranks the film first as often as
it can. Cross-validated with GroupKFold grouped by film, so
no film is in both the fitting and the scoring folds; each fold prints the fitted weights' figures beside the
current weights' on the same held-out queries. The final weights are fitted on the whole development set.
The test split is only scored, never fitted on.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from core.bootstrap import open_search_service
from core.domain import Candidates
from core.query_text import clean_query
from core.ranking import DEFAULT_WEIGHTS, FEATURES, WEIGHTS_FILE, RankingWeights
from core.search_service import SearchService
from core.settings import load_settings
from scripts.evaluate import EvalQuery, load_queries

# The fitted weights are scaled to this sum of absolute values, about that of the hand-set weights, so the
# scores shown to users (1 - exp(-fused / SCORE_SCALE)) keep their range.
WEIGHT_SCALE = 2.2
# Chosen by the cross-validation below on the development set alone (a grid of C 0.01-30, 2-60 hard negatives,
# 1 or 3 rounds, logistic or hinge loss; docs/performance.md has the figures): the hinge loss (a linear ranking
# SVM) with 20 hard negatives and 3 rounds had the best worse-group MRR@10.
REGULARISATION = 1.0
# Negatives per query: the candidates ranked highest by the current weights; mined again each round.
HARD_NEGATIVES = 20
ROUNDS = 3
LEARNER = "svm"


@dataclass(frozen=True, slots=True)
class QueryRows:
    query: EvalQuery
    features: NDArray[np.float64]  # one row per candidate
    target: NDArray[np.bool_]  # the candidates that are the query's film
    ids: list[str]


def candidate_rows(service: SearchService, queries: Sequence[EvalQuery]
                   ) -> Iterator[tuple[QueryRows, Candidates, NDArray[np.float32]]]:
    """Each query's candidates through the real search path, as the fit's rows, with the candidates and the
    query's vector (for experiments that add signals of their own)."""
    intents = [service.intent_for(clean_query(q.query)) for q in queries]
    vectors = service.encoder.encode([i.dense_text for i in intents])
    for q, intent, vector in zip(queries, intents, vectors, strict=True):
        candidates, titled = service.candidates_for(intent, vector)
        x = service.ranker.features(intent, candidates, titled)
        ids = [f.imdb_id for f in candidates.facts]
        yield QueryRows(q, x, np.array([i in q.imdb_ids for i in ids], dtype=bool), ids), candidates, vector


def collect(queries: list[EvalQuery]) -> list[QueryRows]:
    with open_search_service(load_settings()) as service:
        return [rows for rows, _, _ in candidate_rows(service, queries)]


def fit(rows: list[QueryRows], c: float = REGULARISATION, start: NDArray[np.float64] | None = None
        ) -> NDArray[np.float64]:
    """Pairwise classification on the hard pairs: the film against the candidates that the current weights
    rank near the top (all pairs would be mostly easy ones, which teach nothing about the first places). The
    hard candidates are mined again under each round's weights (`ROUNDS`), starting from `start`."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    hand = np.array(RankingWeights.of(DEFAULT_WEIGHTS).values)
    weights = hand if start is None else start
    # A feature no candidate of these queries ever has (no query names a title) cannot be learned: it keeps its
    # hand-set weight, scaled with the rest.
    seen = np.flatnonzero(np.any([np.any(r.features != 0, axis=0) for r in rows], axis=0))
    unseen = np.setdiff1d(np.arange(len(FEATURES)), seen)
    for _ in range(ROUNDS):
        diffs, sample = [], []
        for r in rows:
            if not r.target.any() or r.target.all():
                continue
            pos = r.features[r.target][0]
            others = np.flatnonzero(~r.target)
            fused = r.features[others] @ weights
            hard = others[np.argsort(-fused)[:HARD_NEGATIVES]]
            diffs.append(pos - r.features[hard])
            sample.append(np.full(len(hard), 1.0 / len(hard)))
        x = np.vstack(diffs)
        w = np.concatenate(sample)
        model = (LinearSVC(fit_intercept=False, C=c, max_iter=20000) if LEARNER == "svm"
                 else LogisticRegression(fit_intercept=False, C=c, max_iter=5000))
        x[:, unseen] = 0.0
        model.fit(np.vstack([x, -x]), np.concatenate([np.ones(len(x)), np.zeros(len(x))]),
                  sample_weight=np.concatenate([w, w]))
        # Every signal is built so that more means a better fit: a negative weight is what a handful of
        # queries taught (say, years that were the story's setting), not something to serve.
        coef: NDArray[np.float64] = np.maximum(np.asarray(model.coef_[0], dtype=np.float64), 0.0)
        coef = coef * ((WEIGHT_SCALE - float(np.abs(hand[unseen]).sum())) / (float(np.abs(coef[seen]).sum()) or 1.0))
        coef[unseen] = hand[unseen]
        weights = coef
    return weights


def ranks(rows: list[QueryRows], weights: NDArray[np.float64]) -> list[int | None]:
    """The film's rank under `weights` (ties broken by imdb id, as the ranker does), None when not a candidate."""
    out: list[int | None] = []
    for r in rows:
        if not r.target.any():
            out.append(None)
            continue
        fused = r.features @ weights
        order = sorted(range(len(r.ids)), key=lambda i: (-fused[i], r.ids[i]))
        out.append(next(k for k, i in enumerate(order, start=1) if r.target[i]))
    return out


def figures(rows: list[QueryRows], weights: NDArray[np.float64] | None,
            got: list[int | None] | None = None) -> dict[str, Any]:
    """R@5, MRR@10 and candidate recall per group, of the ranks under `weights` (or the ranks `got`)."""
    if got is None:
        assert weights is not None
        got = ranks(rows, weights)
    out: dict[str, Any] = {}
    for group in ("all", "famous", "little-known"):
        sel = [k for k, r in enumerate(rows) if group == "all" or r.query.group == group]
        if not sel:
            continue
        n = len(sel)
        hits = [got[k] for k in sel]
        out[group] = {
            "n": n,
            "recall@5": round(sum(1 for h in hits if h is not None and h <= 5) / n, 4),
            "mrr@10": round(sum(1.0 / h for h in hits if h is not None and h <= 10) / n, 4),
            "in_candidates": round(sum(1 for h in hits if h is not None) / n, 4),
        }
    return out


def line(name: str, fig: dict[str, Any]) -> str:
    return f"{name:<7} " + "  ".join(
        f"{g}: n={f['n']} R@5 {f['recall@5']:.3f} MRR@10 {f['mrr@10']:.3f}" for g, f in fig.items())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dev", type=Path, default=Path("eval/dev_queries.jsonl"))
    parser.add_argument("--test", type=Path, default=Path("eval/test_queries.jsonl"))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=WEIGHTS_FILE)
    parser.add_argument("--dry-run", action="store_true", help="print the figures, write nothing")
    args = parser.parse_args()
    from sklearn.model_selection import GroupKFold

    started = time.perf_counter()
    dev = collect(load_queries(args.dev))
    test = collect(load_queries(args.test)) if args.test.is_file() else []
    print(f"candidates collected in {time.perf_counter() - started:.0f} s: {len(dev)} dev, {len(test)} test queries")
    hand = np.array(RankingWeights.of(DEFAULT_WEIGHTS).values)
    groups = [sorted(r.query.imdb_ids)[0] for r in dev]
    splitter = GroupKFold(n_splits=args.folds)
    held_out: list[NDArray[np.float64]] = [hand] * len(dev)
    for fold, (train, held) in enumerate(splitter.split(np.zeros(len(dev)), groups=groups), start=1):
        w = fit([dev[i] for i in train])
        held_rows = [dev[i] for i in held]
        print(f"fold {fold}: fit on {len(train)}, scored on {len(held)} queries (no film in both)")
        print("  " + line("fitted", figures(held_rows, w)))
        print("  " + line("hand", figures(held_rows, hand)))
        for i in held:
            held_out[i] = w
    # Every dev query ranked by the weights of the fold that did not see its film: the honest dev figure.
    pooled = [ranks([row], held_out[i])[0] for i, row in enumerate(dev)]
    print("cross-validated (every query scored by the fold that held it out):")
    print("  " + line("fitted", figures(dev, None, pooled)))
    final = fit(dev)
    print("weights fitted on the whole development set:")
    print("  " + ", ".join(f"{name} {value:+.3f}" for name, value in zip(FEATURES, final, strict=True)))
    for name, rows in (("dev", dev), ("test", test)):
        if rows:
            print(f"{name} (final weights, {'fitted on' if name == 'dev' else 'never fitted on'}):")
            print("  " + line("fitted", figures(rows, final)))
            print("  " + line("hand", figures(rows, hand)))
    if not args.dry_run:
        data = {
            "features": list(FEATURES),
            "weights": {name: round(float(v), 4) for name, v in zip(FEATURES, final, strict=True)},
            "fitted_on": str(args.dev), "queries": len(dev), "folds": args.folds, "C": REGULARISATION,
            "command": "python -m scripts.fit_ranking",
        }
        args.out.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
