"""OnnxEncoder pieces that need no model: pooling and the error for a missing bundle."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.embedding.onnx_encoder import OnnxEncoder, mean_pool_normalize
from core.errors import IndexUnavailable


def test_missing_model_files_are_an_unavailable_index(tmp_path: Path) -> None:
    with pytest.raises(IndexUnavailable) as info:
        OnnxEncoder(tmp_path)
    assert "ingest" in info.value.user_message
    assert str(tmp_path) not in info.value.user_message


def test_mean_pooling_ignores_padding_and_normalizes() -> None:
    hidden = np.array([[[1.0, 0.0], [0.0, 1.0], [100.0, 0.0]]], dtype=np.float32)
    mask = np.array([[1, 1, 0]], dtype=np.int64)
    pooled = mean_pool_normalize(hidden, mask)
    assert pooled.dtype == np.float32
    np.testing.assert_allclose(pooled, [[2**-0.5, 2**-0.5]], rtol=1e-6)
