"""verify_parity's verdicts on fake encoders: it must flag drifting vectors and changed rankings."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from core.embedding.onnx_export import verify_parity
from core.embedding.port import Vectors
from tests.embedding.fake_encoder import FakeEncoder, fake_vector

CATALOG = {f"tt{i:07d}": fake_vector(f"movie {i}") for i in range(40)}


def brute_force_top(query: Vectors) -> Sequence[str]:
    ids = list(CATALOG)
    scores = np.stack([CATALOG[i] for i in ids]) @ query
    return [ids[j] for j in np.argsort(-scores)]


class DriftingEncoder(FakeEncoder):
    """Like FakeEncoder, but gives one text a different vector."""

    def __init__(self, drift_on: str) -> None:
        super().__init__()
        self.drift_on = drift_on

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> Vectors:
        out = super().encode(texts, batch_size)
        for i, text in enumerate(texts):
            if text == self.drift_on:
                out[i] = fake_vector(text + " drifted")
        return out


def test_identical_encoders_pass_with_rankings_checked() -> None:
    report = verify_parity(FakeEncoder(), FakeEncoder(), ["a", "b"], ["q1", "q2"], brute_force_top)
    assert report.ok
    assert report.n_texts == 4
    assert report.top5_checked == 2
    assert report.min_cosine > 0.99999


def test_one_drifting_text_fails_and_sets_the_minimum() -> None:
    report = verify_parity(DriftingEncoder("b"), FakeEncoder(), ["a", "b", "c"])
    assert not report.ok
    assert report.min_cosine < 0.9
    assert report.mean_cosine > report.min_cosine


def test_a_changed_ranking_is_reported_by_query() -> None:
    report = verify_parity(DriftingEncoder("q2"), FakeEncoder(), [], ["q1", "q2"], brute_force_top)
    assert report.top5_mismatches == ("q2",)
    assert not report.ok


def test_nothing_compared_is_not_a_pass() -> None:
    assert not verify_parity(FakeEncoder(), FakeEncoder(), []).ok
