"""The fusion-columns experiment's arithmetic (scripts/experiments/fusion_features.py): ranks, RRF terms, the
columns built from the shipped ones, and the keep rule."""

from __future__ import annotations

import numpy as np
import pytest

import core.ranking
import scripts.fit_ranking as fitting
from scripts.evaluate import EvalQuery
from scripts.experiments.fusion_features import (
    COLUMNS,
    VARIANTS,
    Scores,
    Signals,
    active_set_fit,
    extra_columns,
    log_rank,
    near_best,
    passes,
    ranks_of,
    rrf,
)

_COL = {name: k for k, name in enumerate(core.ranking.FEATURES)}


def _signals() -> Signals:
    dense = np.array([0.50, 0.62, 0.60, 0.40])
    sparse = np.array([0.0, 3.0, 9.0, 1.0])
    x = np.zeros((4, len(core.ranking.FEATURES)))
    x[:, _COL["dense"]] = (dense - 0.40) / 0.22
    x[:, _COL["dense_raw"]] = dense
    x[:, _COL["sparse"]] = [-0.4, 0.2, 1.6, -0.1]
    x[:, _COL["popularity"]] = [0.5, 1.0, 0.2, 0.0]
    x[:, _COL["name"]] = [0.0, 0.6, 0.0, 1.0]
    return Signals(x, dense, sparse)


def test_ranks_put_the_highest_first_and_ties_share_their_best_rank() -> None:
    assert ranks_of(np.array([0.2, 0.9, 0.5, 0.9])).tolist() == [4.0, 1.0, 3.0, 1.0]


def test_rrf_is_k_over_k_plus_rank_and_zero_where_the_retriever_found_nothing() -> None:
    scores = np.array([0.1, 0.7, 0.4])
    np.testing.assert_allclose(rrf(scores, 10), [10 / 13, 10 / 11, 10 / 12])
    np.testing.assert_allclose(rrf(scores, 10, scores > 0.2), [0.0, 10 / 11, 10 / 12])


def test_log_rank_is_one_for_the_first_and_falls_with_the_log_of_the_rank() -> None:
    got = log_rank(np.array([0.3, 0.9, 0.6]))
    np.testing.assert_allclose(got, [1 - np.log(3) / np.log(4), 1.0, 1 - np.log(2) / np.log(4)])
    assert log_rank(np.array([0.3, 0.0]), np.array([True, False]))[1] == 0.0


def test_near_best_fades_linearly_to_zero_width_below_the_best() -> None:
    np.testing.assert_allclose(near_best(np.array([0.60, 0.58, 0.50]), width=0.05), [1.0, 0.6, 0.0])


def test_columns_built_from_the_shipped_ones() -> None:
    s = _signals()
    got = extra_columns(s, ("rrf10_sparse", "sparse_clip", "sparse_excess", "dense_x_pop", "rawdense_x_name"))
    n = len(core.ranking.FEATURES)
    np.testing.assert_array_equal(got[:, :n], s.x)
    # The candidate BM25 did not score gets no RRF credit; the others rank 2nd, 1st, 3rd.
    np.testing.assert_allclose(got[:, n], [0.0, 10 / 12, 10 / 11, 10 / 13])
    np.testing.assert_allclose(got[:, n + 1], [0.0, 0.2, 1.0, 0.0])
    np.testing.assert_allclose(got[:, n + 2], [0.0, 0.0, 0.6, 0.0])
    np.testing.assert_allclose(got[:, n + 3], s.x[:, _COL["dense"]] * s.x[:, _COL["popularity"]])
    np.testing.assert_allclose(got[:, n + 4], [0.0, 0.62 * 0.6, 0.0, 0.40])


def test_the_linear_gap_differs_from_dense_raw_by_one_constant_a_query() -> None:
    s = _signals()
    gap = COLUMNS["dense_gap"](s)
    assert gap.max() == 0.0
    np.testing.assert_allclose(gap - s.dense, np.full(4, -s.dense.max()))


def test_every_variant_names_known_columns() -> None:
    assert all(name in COLUMNS for names in VARIANTS.values() for name in names)


def _scores(famous: list[float], little: list[float]) -> Scores:
    return Scores({"famous": (0.9, famous[0]), "little-known": (0.9, little[0])},
                  {"famous": famous[1:], "little-known": little[1:]}, {}, [], np.zeros(1))


@pytest.mark.parametrize(("famous", "little", "kept"), [
    ([0.81, 0.81], [0.85, 0.85], True),  # both up, one by 0.015
    ([0.805, 0.805], [0.835, 0.835], False),  # both up, neither by 0.01
    ([0.79, 0.79], [0.87, 0.87], False),  # one group falls
    ([0.799, 0.811], [0.85, 0.85], False),  # famous up on average but lower on the fit's folds
])
def test_the_keep_rule(famous: list[float], little: list[float], kept: bool) -> None:
    base = _scores([0.80, 0.80], [0.83, 0.83])
    assert passes(base, _scores(famous, little)) is kept


def _rows(seed: int = 3) -> list[fitting.QueryRows]:
    """Queries whose film (the first candidate) is ahead on `dense`, behind on `dense_raw` and level on `sparse`."""
    rng = np.random.default_rng(seed)
    rows = []
    for q in range(40):
        x = np.zeros((12, len(core.ranking.FEATURES)))
        x[:, _COL["dense"]] = rng.random(12)
        x[:, _COL["dense_raw"]] = rng.random(12)
        x[:, _COL["sparse"]] = rng.random(12)
        x[0, _COL["dense"]] += 0.5
        x[0, _COL["dense_raw"]] -= 0.5
        target = np.zeros(12, dtype=bool)
        target[0] = True
        query = EvalQuery(query=f"q{q}", imdb_ids=frozenset({f"tt{q:07d}"}), group="famous")
        rows.append(fitting.QueryRows(query, x, target, [f"tt{q:07d}{k:02d}" for k in range(12)]))
    return rows


def test_the_active_set_fit_drops_a_column_the_svm_weighs_negatively_and_refits_the_rest() -> None:
    pytest.importorskip("sklearn")
    rows = _rows()
    got = active_set_fit(rows)
    assert got[_COL["dense_raw"]] == 0.0
    assert got[_COL["dense"]] > got[_COL["sparse"]] >= 0.0
    # The same as fitting without that column at all (it then counts as unseen: its hand-set weight is 0).
    assert core.ranking.DEFAULT_WEIGHTS["dense_raw"] == 0.0
    without = [fitting.QueryRows(r.query, r.features.copy(), r.target, r.ids) for r in rows]
    for r in without:
        r.features[:, _COL["dense_raw"]] = 0.0
    np.testing.assert_allclose(got, active_set_fit(without))
    # Features no row has keep their hand-set weights, scaled with the rest.
    assert got[_COL["title"]] == core.ranking.DEFAULT_WEIGHTS["title"]
