"""Experiment (issue 15): should the weights depend on the kind of query?

    INDEX_PATH=data/index python -m scripts.experiments.query_shape [--seeds 1 2 3 4 5]

Hypothesis: one set of weights serves a three-word query ("dino park escape"), a query naming an actor and a
long plot description alike, while what decides among the candidates differs: for a short query the words
typed and how well known a film is may count for more and the meaning for less; once a person is named, the
plot matters less. So the fit also gets some signals multiplied by a property of the query (a linear model
with interactions): `short` (1 for five words or fewer, after the same cleaning as serving), `named` (some
candidate's cast or director is in the query: the name signal is set for one of them) and `dated` (the query
gives years). The fit and report are `scripts.experiments.sentence_vectors`'s (same folds, splits and rule).
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
from core.query_text import clean_query
from core.ranking import FEATURES
from core.settings import load_settings
from scripts.evaluate import load_queries
from scripts.experiments import experiment_parser
from scripts.experiments.sentence_vectors import compare, query_styles, report

SHORT_WORDS = 5
# Which signals each query property multiplies, by variant.
SIGNALS = ("dense", "sparse", "popularity")
PROPERTIES = ("short", "named", "dated")


def properties(rows: fitting.QueryRows) -> dict[str, float]:
    """The query's properties, 0 or 1."""
    x = rows.features
    return {
        "short": float(len(clean_query(rows.query.query).split()) <= SHORT_WORDS),
        "named": float(len(x) > 0 and x[:, FEATURES.index("name")].max() > 0),
        "dated": float(len(x) > 0 and (x[:, FEATURES.index("year")].max() > 0
                                       or x[:, FEATURES.index("year_setting")].max() > 0)),
    }


def with_interactions(rows: fitting.QueryRows, chosen: tuple[str, ...]) -> NDArray[np.float64]:
    """The rows' features, then each of `SIGNALS` times each property in `chosen`."""
    props = properties(rows)
    extra = [rows.features[:, FEATURES.index(s)] * props[p] for p in chosen for s in SIGNALS]
    return np.column_stack([rows.features, *extra]) if extra else rows.features


def main() -> int:
    parser = experiment_parser(__doc__)
    args = parser.parse_args()

    started = time.perf_counter()
    dev_queries, test_queries = load_queries(args.dev), load_queries(args.test)
    with open_search_service(load_settings()) as service:
        collected = [rows for rows, _, _ in fitting.candidate_rows(service, dev_queries + test_queries)]
    print(f"candidates collected in {time.perf_counter() - started:.0f} s")
    cut = len(dev_queries)
    for group in ("famous", "little-known"):
        sel = [r for r in collected[:cut] if r.query.group == group]
        shares = {p: sum(properties(r)[p] for r in sel) / len(sel) for p in PROPERTIES}
        print(f"dev {group}: " + ", ".join(f"{p} {v:.2f}" for p, v in shares.items()))
    base = core.ranking.FEATURES
    styles = query_styles(args.dev) + query_styles(args.test)
    before = report("before (the shipped features)", collected[:cut], collected[cut:], args.folds, base, args.seeds)
    for chosen in [(p,) for p in PROPERTIES] + [PROPERTIES]:
        rows = [replace(r, features=with_interactions(r, chosen)) for r in collected]
        names = (*base, *(f"{s}_x_{p}" for p in chosen for s in SIGNALS))
        after = report(f"+ interactions with {' and '.join(chosen)}", rows[:cut], rows[cut:], args.folds, names,
                       args.seeds)
        compare("+".join(chosen), before, after, styles)
    print(json.dumps({"elapsed_s": round(time.perf_counter() - started)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
