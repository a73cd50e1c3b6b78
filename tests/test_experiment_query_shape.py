"""The query-shape experiment's columns: signals times properties of the query."""

from __future__ import annotations

import numpy as np

from core.ranking import FEATURES
from scripts.evaluate import EvalQuery
from scripts.experiments.query_shape import SIGNALS, properties, with_interactions
from scripts.fit_ranking import QueryRows


def _rows(query: str, name: float, year: float) -> QueryRows:
    x = np.zeros((2, len(FEATURES)))
    x[:, FEATURES.index("dense")] = [0.9, 0.4]
    x[:, FEATURES.index("sparse")] = [0.2, 0.1]
    x[:, FEATURES.index("popularity")] = [0.5, 0.7]
    x[1, FEATURES.index("name")] = name
    x[0, FEATURES.index("year")] = year
    return QueryRows(EvalQuery(query, frozenset({"tt1"})), x, np.array([True, False]), ["tt1", "tt2"])


def test_properties_of_the_query() -> None:
    assert properties(_rows("dino park escape", 0.0, 0.0)) == {"short": 1.0, "named": 0.0, "dated": 0.0}
    assert properties(_rows("a long plot description of more than five words", 0.6, 1.0)) == {
        "short": 0.0, "named": 1.0, "dated": 1.0}


def test_interactions_are_the_signals_times_each_chosen_property() -> None:
    rows = _rows("dino park escape", 0.0, 0.0)
    x = with_interactions(rows, ("short", "named"))
    assert x.shape == (2, len(FEATURES) + 2 * len(SIGNALS))
    np.testing.assert_array_equal(x[:, : len(FEATURES)], rows.features)
    np.testing.assert_array_equal(x[:, len(FEATURES)], rows.features[:, FEATURES.index("dense")])  # short: 1
    assert not x[:, len(FEATURES) + len(SIGNALS):].any()  # named: 0
    np.testing.assert_array_equal(with_interactions(rows, ()), rows.features)
