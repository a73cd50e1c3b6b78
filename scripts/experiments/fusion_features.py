"""Experiment (issue 15): does the fusion rank better with more columns made of the signals it already has?

    INDEX_PATH=/tmp/d3/index python -m scripts.experiments.fusion_features [--variants ...] [--seeds 1 2 3 4 5]
        [--fit shipped|active-set] [--cache /tmp/fusion_rows.pkl] [--test-all]

Hypothesis: the linear fusion of `core.ranking.FEATURES` cannot express a few things a reranker often gains from:
where a candidate stands among the others by each retriever (reciprocal-rank-fusion terms k / (k + rank), or a
log-rank), how near it is to the best dense match (a linear gap is the dense cosine less a per-query constant,
which a pairwise fit cannot tell from `dense_raw`, so only a bounded "near the best" is tried), a BM25 z-score
clipped so one rare word does not dominate, and products of signals (dense x popularity, sparse x popularity,
dense_raw x name, title x popularity). Every column is computed from what `Ranker.features` already has, for all
candidates at once (`COLUMNS`), and oriented so that more means a better fit, as the fit's non-negative weights
need.

Serving is not touched: the candidates and the shipped columns are those of the real search path; each variant
(`VARIANTS`, small groups, not every combination) appends its columns and is fitted with `scripts.fit_ranking`'s
fit (pairwise ranking SVM); the dev split is cross-validated by film on the fit's own five folds and on five
shuffled splits by film (seeds); the test split is scored only for a variant `passes` keeps (`--test-all`: every
one). `--fit active-set` fits the variants with `active_set_fit` instead, to tell what a new column carries from
what the shipped fit's clipping of a negative weight does to the other weights.
The rows are cached in `--cache` (pickle; delete it for another index or other queries).
"""

from __future__ import annotations

import contextlib
import json
import pickle
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

import core.ranking
import scripts.fit_ranking as fitting
from core.bootstrap import open_search_service
from core.settings import load_settings
from scripts.evaluate import EvalQuery, load_queries
from scripts.experiments import experiment_parser
from scripts.experiments.sentence_vectors import compare, features_named, query_styles

GROUPS = ("famous", "little-known")
# The shipped columns, by name, as `Ranker.features` lays them out.
_COL = {name: k for k, name in enumerate(core.ranking.FEATURES)}
# A dense cosine within this of the query's best candidate counts as "near the best" (1), fading to 0 at it.
NEAR_BEST = 0.05


@dataclass(frozen=True, slots=True)
class Signals:
    """One query's candidates as the ranker sees them: the shipped columns and the retrievers' raw scores."""

    x: NDArray[np.float64]
    dense: NDArray[np.float64]
    sparse: NDArray[np.float64]  # BM25, 0 where no word matches


def ranks_of(scores: NDArray[np.float64]) -> NDArray[np.float64]:
    """1 for the highest score, 2 for the next, ...; ties share their best rank, so order in the list is moot."""
    ordered = np.sort(scores)[::-1]
    return np.searchsorted(-ordered, -scores, side="left").astype(np.float64) + 1.0


def rrf(scores: NDArray[np.float64], k: float, present: NDArray[np.bool_] | None = None) -> NDArray[np.float64]:
    """k / (k + rank): 1 / (k + rank) scaled so the first is near 1; 0 for candidates not `present` (a retriever
    that did not find them)."""
    out = k / (k + ranks_of(scores))
    return out if present is None else np.where(present, out, 0.0)


def log_rank(scores: NDArray[np.float64], present: NDArray[np.bool_] | None = None) -> NDArray[np.float64]:
    """1 - ln(rank) / ln(n + 1): 1 for the first, falling slowly to near 0 for the last; 0 where not `present`."""
    out = 1.0 - np.log(ranks_of(scores)) / np.log(len(scores) + 1.0)
    return out if present is None else np.where(present, out, 0.0)


def near_best(dense: NDArray[np.float64], width: float = NEAR_BEST) -> NDArray[np.float64]:
    """1 at the query's best cosine, falling linearly to 0 `width` below it."""
    return np.clip(1.0 - (float(dense.max()) - dense) / width, 0.0, 1.0)


def _rrf_column(k: float, which: str) -> Callable[[Signals], NDArray[np.float64]]:
    if which == "dense":
        return lambda s: rrf(s.dense, k)
    return lambda s: rrf(s.sparse, k, s.sparse > 0)


COLUMNS: Mapping[str, Callable[[Signals], NDArray[np.float64]]] = {
    **{f"rrf{k}_{which}": _rrf_column(k, which) for k in (10, 30, 60) for which in ("dense", "sparse")},
    "logrank_dense": lambda s: log_rank(s.dense),
    "logrank_sparse": lambda s: log_rank(s.sparse, s.sparse > 0),
    "near_best": lambda s: near_best(s.dense),
    # best - dense, negated so more is better: within a query it differs from `dense_raw` by a constant.
    "dense_gap": lambda s: s.dense - float(s.dense.max()),
    # The shipped column is z / 3; clipped at z = 0 and z = 3 (its positive part, capped).
    "sparse_clip": lambda s: np.clip(s.x[:, _COL["sparse"]], 0.0, 1.0),
    "sparse_cap": lambda s: np.minimum(s.x[:, _COL["sparse"]], 1.0),
    # What the capped column leaves out: the part of z above 3 (the fit gave `sparse_cap` a negative weight).
    "sparse_excess": lambda s: np.maximum(s.x[:, _COL["sparse"]] - 1.0, 0.0),
    "dense_x_pop": lambda s: s.x[:, _COL["dense"]] * s.x[:, _COL["popularity"]],
    "sparse_x_pop": lambda s: np.clip(s.x[:, _COL["sparse"]], 0.0, 1.0) * s.x[:, _COL["popularity"]],
    "rawdense_x_name": lambda s: s.x[:, _COL["dense_raw"]] * s.x[:, _COL["name"]],
    "title_x_pop": lambda s: s.x[:, _COL["title"]] * s.x[:, _COL["popularity"]],
    # The fit gave `sparse_x_pop` a negative weight: words may count more for the less-voted films.
    "sparse_x_obscure": lambda s: np.clip(s.x[:, _COL["sparse"]], 0.0, 1.0) * (1.0 - s.x[:, _COL["popularity"]]),
}

VARIANTS: Mapping[str, tuple[str, ...]] = {
    "rrf k=10": ("rrf10_dense", "rrf10_sparse"),
    "rrf k=30": ("rrf30_dense", "rrf30_sparse"),
    "rrf k=60": ("rrf60_dense", "rrf60_sparse"),
    "log-rank": ("logrank_dense", "logrank_sparse"),
    "rrf k=60, dense only": ("rrf60_dense",),
    "rrf k=60, sparse only": ("rrf60_sparse",),
    "near best": ("near_best",),
    "gap to the best (linear)": ("dense_gap",),
    "sparse clipped": ("sparse_clip",),
    "sparse capped at z = 3": ("sparse_cap",),
    "sparse above z = 3": ("sparse_excess",),
    "products (4)": ("dense_x_pop", "sparse_x_pop", "rawdense_x_name", "title_x_pop"),
    "dense x popularity": ("dense_x_pop",),
    "sparse x popularity": ("sparse_x_pop",),
    "sparse x (1 - popularity)": ("sparse_x_obscure",),
    "rrf k=30 + sparse clipped": ("rrf30_dense", "rrf30_sparse", "sparse_clip"),
    "rrf k=30 + dense x popularity": ("rrf30_dense", "rrf30_sparse", "dense_x_pop"),
    "sparse clipped + dense x popularity": ("sparse_clip", "dense_x_pop"),
}


def extra_columns(signals: Signals, names: Sequence[str]) -> NDArray[np.float64]:
    """The shipped columns with `names` appended."""
    return np.column_stack([signals.x, *(COLUMNS[n](signals) for n in names)])


@dataclass(frozen=True, slots=True)
class Collected:
    rows: list[fitting.QueryRows]
    signals: list[Signals]


def collect(queries: list[EvalQuery]) -> Collected:
    """`scripts.fit_ranking.collect`, keeping the retrievers' raw scores."""
    with open_search_service(load_settings()) as service:
        rows, signals = [], []
        for row, candidates, _ in fitting.candidate_rows(service, queries):
            rows.append(row)
            signals.append(Signals(row.features, np.asarray(candidates.dense, dtype=np.float64),
                                   np.asarray(candidates.sparse, dtype=np.float64)))
        return Collected(rows, signals)


def cached(queries: list[EvalQuery], cache: Path) -> Collected:
    """`collect`, or what it cached in `cache` for these queries (plain arrays, so any entry point reads it)."""
    if cache.is_file():
        stored = pickle.loads(cache.read_bytes())
        if [q.query for q in queries] == stored["queries"]:
            return Collected(
                [fitting.QueryRows(q, x, t, ids) for q, (x, t, ids) in zip(queries, stored["rows"], strict=True)],
                [Signals(x, d, s) for (x, _, _), (d, s) in zip(stored["rows"], stored["scores"], strict=True)])
    data = collect(queries)
    cache.write_bytes(pickle.dumps({
        "queries": [q.query for q in queries],
        "rows": [(r.features, r.target, r.ids) for r in data.rows],
        "scores": [(s.dense, s.sparse) for s in data.signals],
    }))
    return data


def active_set_fit(rows: list[fitting.QueryRows], c: float = fitting.REGULARISATION,
                   start: NDArray[np.float64] | None = None) -> NDArray[np.float64]:
    """`scripts.fit_ranking.fit`, except that a column the SVM gives a negative weight is dropped and the others
    refitted without it (one at a time, the most negative first), where the shipped fit clips it to 0 and keeps
    the others as they were fitted beside it; the rest (hard negatives, rounds, scale) is the same."""
    from sklearn.svm import LinearSVC

    hand = np.array(core.ranking.RankingWeights.of(core.ranking.DEFAULT_WEIGHTS).values)
    weights = hand if start is None else start
    seen = np.flatnonzero(np.any([np.any(r.features != 0, axis=0) for r in rows], axis=0))
    unseen = np.setdiff1d(np.arange(len(hand)), seen)
    for _ in range(fitting.ROUNDS):
        diffs, sample = [], []
        for r in rows:
            if not r.target.any() or r.target.all():
                continue
            others = np.flatnonzero(~r.target)
            hard = others[np.argsort(-(r.features[others] @ weights))[:fitting.HARD_NEGATIVES]]
            diffs.append(r.features[r.target][0] - r.features[hard])
            sample.append(np.full(len(hard), 1.0 / len(hard)))
        x, w = np.vstack(diffs), np.concatenate(sample)
        x[:, unseen] = 0.0
        while True:
            model = LinearSVC(fit_intercept=False, C=c, max_iter=20000)
            model.fit(np.vstack([x, -x]), np.concatenate([np.ones(len(x)), np.zeros(len(x))]),
                      sample_weight=np.concatenate([w, w]))
            coef = np.asarray(model.coef_[0], dtype=np.float64)
            if coef.min() >= 0:
                break
            x[:, int(np.argmin(coef))] = 0.0
        coef = coef * ((fitting.WEIGHT_SCALE - float(np.abs(hand[unseen]).sum())) /
                       (float(np.abs(coef[seen]).sum()) or 1.0))
        coef[unseen] = hand[unseen]
        weights = coef
    return weights


@contextlib.contextmanager
def fitted_with(fit: Callable[..., NDArray[np.float64]]) -> Iterator[None]:
    """`scripts.fit_ranking.fit` replaced by `fit` (the cross-validation calls it by that name)."""
    saved = fitting.fit
    setattr(fitting, "fit", fit)  # noqa: B010 - a scratch patch, as `features_named`
    try:
        yield
    finally:
        setattr(fitting, "fit", saved)  # noqa: B010


def with_columns(data: Collected, names: Sequence[str]) -> list[fitting.QueryRows]:
    return [replace(r, features=extra_columns(s, names)) for r, s in zip(data.rows, data.signals, strict=True)]


@dataclass(frozen=True, slots=True)
class Scores:
    """A variant's figures: the fit's folds (R@5, MRR@10), MRR@10 on each shuffled split, and test."""

    fit_folds: dict[str, tuple[float, float]]
    seeds: dict[str, list[float]]
    weights: dict[str, float]
    ranks: list[int | None]  # dev on the fit's folds
    final: NDArray[np.float64]  # fitted on all of dev

    def mrr_by_split(self, group: str) -> list[float]:
        """MRR@10 on the fit's folds, then on each shuffled split."""
        return [self.fit_folds[group][1], *self.seeds[group]]

    def mean_mrr(self, group: str) -> float:
        """MRR@10 averaged over the fit's folds and the shuffled splits."""
        return float(np.mean(self.mrr_by_split(group)))


def _pairs(fig: dict[str, dict[str, float]]) -> dict[str, tuple[float, float]]:
    return {g: (float(fig[g]["recall@5"]), float(fig[g]["mrr@10"])) for g in GROUPS}


def score(dev: list[fitting.QueryRows], names: tuple[str, ...], folds: int,
          seeds: Sequence[int]) -> Scores:
    from scripts.experiments.sentence_vectors import cross_validated

    with features_named(names):
        cv = cross_validated(dev, folds)
        other = [fitting.figures(dev, None, cross_validated(dev, folds, seed)) for seed in seeds]
        final = fitting.fit(dev)
    return Scores(_pairs(fitting.figures(dev, None, cv)),
                  {g: [float(f[g]["mrr@10"]) for f in other] for g in GROUPS},
                  {n: round(float(v), 4) for n, v in zip(names, final, strict=True)}, cv, final)


def on_test(test: list[fitting.QueryRows], s: Scores) -> dict[str, tuple[float, float]]:
    """The test split's figures under the weights fitted on all of dev: scored, never used to choose."""
    return _pairs(fitting.figures(test, s.final))


# The keep rule: the mean MRR@10 over the fit's folds and the shuffled splits rises in both groups, by at least
# GAIN in one, and neither group falls on the fit's folds.
GAIN = 0.01


def passes(base: Scores, variant: Scores, gain: float = GAIN) -> bool:
    ups = [variant.mean_mrr(g) - base.mean_mrr(g) for g in GROUPS]
    held = all(variant.fit_folds[g][1] >= base.fit_folds[g][1] for g in GROUPS)
    return all(u > 0 for u in ups) and max(ups) >= gain and held


def row(name: str, s: Scores, base: Scores | None, test: dict[str, tuple[float, float]] | None) -> str:
    def cell(pair: tuple[float, float]) -> str:
        return f"{pair[0]:.3f} / {pair[1]:.3f}"

    means = " / ".join(f"{s.mean_mrr(g):.3f}" for g in GROUPS)
    tested = " | ".join(cell(test[g]) for g in GROUPS) if test else "not scored | not scored"
    verdict = "" if base is None else (" | passes" if passes(base, s) else " | fails")
    return (f"| {name} | {cell(s.fit_folds['famous'])} | {cell(s.fit_folds['little-known'])} | {means} | "
            f"{tested}{verdict} |")


def main() -> int:
    parser = experiment_parser(__doc__)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--cache", type=Path, default=Path("/tmp/fusion_rows.pkl"))
    parser.add_argument("--test-all", action="store_true", help="score the test split for every variant")
    parser.add_argument("--fit", choices=["shipped", "active-set"], default="shipped",
                        help="fit the variants with scripts.fit_ranking's fit, or with `active_set_fit`")
    args = parser.parse_args()

    started = time.perf_counter()
    dev_queries, test_queries = load_queries(args.dev), load_queries(args.test)
    both = cached(dev_queries + test_queries, args.cache)
    cut = len(dev_queries)
    dev, test = Collected(both.rows[:cut], both.signals[:cut]), Collected(both.rows[cut:], both.signals[cut:])
    print(f"candidates ready in {time.perf_counter() - started:.0f} s: {len(dev.rows)} dev, {len(test.rows)} test")
    styles = query_styles(args.dev)
    shipped = tuple(core.ranking.FEATURES)
    base = score(dev.rows, shipped, args.folds, args.seeds)
    print("| columns added | fit's folds famous R@5 / MRR@10 | fit's folds little-known | mean of 6 splits MRR@10 "
          "famous / little-known | test famous | test little-known | rule |")
    print(row("none (shipped)", base, None, on_test(test.rows, base)), flush=True)
    print("    shuffled splits MRR@10: " + "  ".join(
        f"{g} " + " ".join(f"{m:.3f}" for m in base.seeds[g]) for g in GROUPS))
    variant_fit = fitting.fit if args.fit == "shipped" else active_set_fit
    if args.fit != "shipped":
        with fitted_with(variant_fit):
            print(row(f"none, {args.fit} fit", score(dev.rows, shipped, args.folds, args.seeds), base, None))
    for name in args.variants:
        names = VARIANTS[name]
        with fitted_with(variant_fit):
            got = score(with_columns(dev, names), shipped + names, args.folds, args.seeds)
        # The test split is scored only for a variant the dev split keeps (or on request).
        tested = on_test(with_columns(test, names), got) if passes(base, got) or args.test_all else None
        print(row(name, got, base, tested), flush=True)
        print("    MRR@10 change on each split (the fit's folds first): " + "  ".join(
            f"{g} " + " ".join(f"{a - b:+.3f}" for a, b in zip(got.mrr_by_split(g), base.mrr_by_split(g),
                                                               strict=True)) for g in GROUPS))
        print("    weights: " + ", ".join(f"{n} {v:+.3f}" for n, v in got.weights.items()))
        compare(name + ", dev on the fit's folds", base.ranks, got.ranks, styles)
    print(json.dumps({"elapsed_s": round(time.perf_counter() - started)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
