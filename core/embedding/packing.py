"""Packing a batch of texts into model rows: several texts share a row, each attending only to its own tokens.

Why: a run of the model costs about the same for every token it computes, padding included, plus a fixed cost a
run to stream the weights through the cache. Queries are short and of varied length, so padding each text to the
longest of its run wasted compute, and keeping the padding small took many runs a batch. Packed into rows of about
`ROW_TOKENS`, a batch of 32 short queries takes one or two runs (see `DEFAULT_MAX_BATCH_TOKENS` in
core.embedding.onnx_encoder) and pads a few tokens a row. The format-4 graph takes the position ids (restarting at
each text) and a block mask, so every text gets the numbers it would get alone (up to float summation order).

A longer row costs a little more a token, as attention grows with the row's square; rows of about 48 tokens keep
that negligible while leaving room to balance the rows. Figures: docs/performance.md.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from core.embedding.wordpiece import Encoding

ROW_TOKENS = 48


def pack_rows(lengths: Sequence[int], row_tokens: int = ROW_TOKENS) -> list[list[int]]:
    """Indexes into `lengths` grouped into rows of about `row_tokens` tokens (or the longest text, if longer).

    The number of rows is fixed first (total / row size, rounded), then texts go longest first to the least
    filled row, which keeps the rows, and so the padding to the longest row, nearly even. A long text among
    short ones shares its row with them rather than padding a row of its own.
    """
    if not lengths:
        return []
    capacity = max(row_tokens, max(lengths))
    count = max(1, min(len(lengths), round(sum(lengths) / capacity)))
    rows: list[list[int]] = [[] for _ in range(count)]
    fill = [(0, row) for row in range(count)]  # (tokens so far, row), a heap: the least filled row first
    for index in sorted(range(len(lengths)), key=lambda i: -lengths[i]):
        tokens, row = heapq.heappop(fill)
        rows[row].append(index)
        heapq.heappush(fill, (tokens + lengths[index], row))
    return [row for row in rows if row]


@dataclass(frozen=True, slots=True)
class PackedBatch:
    """Model inputs for texts packed into rows, and where each text's tokens landed (row, first, count)."""

    input_ids: NDArray[np.int64]
    token_type_ids: NDArray[np.int64]
    position_ids: NDArray[np.int32]
    block_mask: NDArray[np.int32]
    spans: tuple[tuple[int, int, int], ...]

    @classmethod
    def of(cls, encodings: Sequence[Encoding], pad_id: int, row_tokens: int = ROW_TOKENS) -> PackedBatch:
        rows = pack_rows([len(e.ids) for e in encodings], row_tokens)
        length = max(sum(len(encodings[i].ids) for i in row) for row in rows)
        shape = (len(rows), length)
        input_ids = np.full(shape, pad_id, dtype=np.int64)
        token_type_ids = np.zeros(shape, dtype=np.int64)
        position_ids = np.zeros(shape, dtype=np.int32)
        # 1 where a token may attend to another: the tokens of its own text. Padding attends to nothing.
        block_mask = np.zeros((len(rows), length, length), dtype=np.int32)
        spans: list[tuple[int, int, int]] = [(0, 0, 0)] * len(encodings)
        for r, row in enumerate(rows):
            start = 0
            for i in row:
                enc = encodings[i]
                end = start + len(enc.ids)
                input_ids[r, start:end] = enc.ids
                token_type_ids[r, start:end] = enc.type_ids
                position_ids[r, start:end] = np.arange(len(enc.ids), dtype=np.int32)
                block_mask[r, start:end, start:end] = 1
                spans[i] = (r, start, len(enc.ids))
                start = end
        return cls(input_ids, token_type_ids, position_ids, block_mask, tuple(spans))

    def pool(self, hidden: NDArray[np.float32]) -> NDArray[np.float32]:
        """Mean of each text's token vectors (its own tokens only), scaled to unit length, as ST does."""
        pooled = np.stack([hidden[r, start : start + count].mean(axis=0) for r, start, count in self.spans])
        norms = np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        normalized: NDArray[np.float32] = (pooled / norms).astype(np.float32, copy=False)
        return normalized
