"""Packing texts into model rows (format 4), without a model: which texts share a row, and the inputs built."""

from __future__ import annotations

import numpy as np
import pytest

from core.embedding.packing import ROW_TOKENS, PackedBatch, pack_rows
from core.embedding.wordpiece import Encoding


def _encoding(ids: list[int]) -> Encoding:
    return Encoding(ids, [1] * len(ids), [0] * len(ids))


def _check_partition(rows: list[list[int]], n: int) -> None:
    assert sorted(i for row in rows for i in row) == list(range(n))
    assert all(rows)


def test_no_texts_no_rows() -> None:
    assert pack_rows([]) == []


def test_one_text_is_one_row() -> None:
    assert pack_rows([7]) == [[0]]
    assert pack_rows([300]) == [[0]]


def test_short_queries_fill_rows_of_about_the_row_size_with_little_padding() -> None:
    rng = np.random.default_rng(0)
    lengths = rng.integers(5, 25, 32).tolist()
    rows = pack_rows(lengths)
    _check_partition(rows, len(lengths))
    fills = [sum(lengths[i] for i in row) for row in rows]
    assert len(rows) == round(sum(lengths) / ROW_TOKENS)
    padding = len(rows) * max(fills) - sum(lengths)
    assert padding <= 0.1 * sum(lengths), fills


def test_a_long_text_shares_its_row_with_short_ones_instead_of_padding_them() -> None:
    lengths = [4, 5, 120, 6]
    rows = pack_rows(lengths)
    assert rows == [[2, 3, 1, 0]]  # longest first, one row of 135 tokens, no padding


def test_long_texts_get_rows_of_their_own_length() -> None:
    lengths = [256, 250, 30, 20]
    rows = pack_rows(lengths)
    _check_partition(rows, len(lengths))
    assert len(rows) == 2
    assert {0, 1} not in [set(row) & {0, 1} for row in rows]  # the two long texts never share a row
    assert sorted(sum(lengths[i] for i in row) for row in rows) == [276, 280]


@pytest.mark.parametrize("lengths", [[3], [3, 3], [10, 2, 2, 2], [48] * 5, [1] * 40])
def test_the_packed_inputs_put_each_text_alone_in_its_block(lengths: list[int]) -> None:
    encodings = [_encoding([100 + k] * n) for k, n in enumerate(lengths)]
    batch = PackedBatch.of(encodings, pad_id=0)
    assert batch.input_ids.shape == batch.position_ids.shape == batch.token_type_ids.shape
    rows, length = batch.input_ids.shape
    assert batch.block_mask.shape == (rows, length, length)
    assert batch.position_ids.dtype == batch.block_mask.dtype == np.int32
    covered = np.zeros((rows, length), dtype=bool)
    for k, (row, start, count) in enumerate(batch.spans):
        assert count == lengths[k]
        span = slice(start, start + count)
        assert (batch.input_ids[row, span] == 100 + k).all()
        assert batch.position_ids[row, span].tolist() == list(range(count))
        assert (batch.block_mask[row, span, span] == 1).all()
        assert not covered[row, span].any()
        covered[row, span] = True
    # A token attends to its own text only: the mask holds exactly the blocks; padding is the pad id.
    assert batch.block_mask.sum() == sum(n * n for n in lengths)
    assert (batch.input_ids[~covered] == 0).all()
    assert (batch.block_mask.sum(axis=2)[~covered] == 0).all()


def test_pooling_averages_each_span_and_normalizes() -> None:
    encodings = [_encoding([1, 2]), _encoding([3])]
    batch = PackedBatch.of(encodings, pad_id=0, row_tokens=8)  # both in one row: [1, 2, 3]
    assert batch.input_ids.tolist() == [[1, 2, 3]]
    hidden = np.array([[[3.0, 0.0], [1.0, 0.0], [0.0, -2.0]]], dtype=np.float32)
    pooled = batch.pool(hidden)
    assert pooled.dtype == np.float32
    np.testing.assert_allclose(pooled, [[1.0, 0.0], [0.0, -1.0]])
