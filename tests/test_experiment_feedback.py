"""The feedback experiment's arithmetic: the centroid of the best candidates, and the query moved towards it."""

from __future__ import annotations

import numpy as np

from scripts.experiments.feedback import TOWARDS, feedback_columns


def test_feedback_scores_candidates_against_the_centroid_of_the_best_and_the_moved_query() -> None:
    docs = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], dtype=np.float32)
    query = np.array([0.0, 0.0, 1.0], dtype=np.float32)
    fused = np.array([0.9, 0.8, 0.1])  # the first two are the best: their centroid is (1, 1, 0) / sqrt(2)
    columns = feedback_columns(docs, query, fused, depth=2)
    assert columns.shape == (3, 2)
    np.testing.assert_allclose(columns[:, 0], [2 ** -0.5, 2 ** -0.5, 0.0])
    moved = (1 - TOWARDS) * query + TOWARDS * np.array([1.0, 1.0, 0.0]) / 2 ** 0.5
    moved /= np.linalg.norm(moved)
    np.testing.assert_allclose(columns[:, 1], docs @ moved, rtol=1e-6)
    # Depth 1: the centroid is the best candidate itself.
    np.testing.assert_allclose(feedback_columns(docs, query, fused, depth=1)[:, 0], [1.0, 0.0, 0.0])
