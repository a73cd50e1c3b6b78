"""OnnxEncoder pieces that need no model: pooling, the word-embedding file and the error for a missing bundle."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.embedding import onnx_encoder
from core.embedding.onnx_encoder import OnnxEncoder, WordEmbeddingRows, mean_pool_normalize
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


def _table(tmp_path: Path, rows: int, dim: int = 4) -> tuple[Path, np.ndarray]:
    values = np.arange(rows * dim, dtype="<f4").reshape(rows, dim)
    path = tmp_path / "word_embeddings.f32"
    values.tofile(path)
    return path, values


@pytest.fixture(params=["libc pread, keeping the GIL", "os.pread"])
def reader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways of reading rows: libc's pread through ctypes, and os.pread where ctypes cannot reach libc."""
    if request.param == "os.pread":
        monkeypatch.setattr(onnx_encoder, "_PREAD", None)
    else:
        assert onnx_encoder._PREAD is not None  # Linux and macOS reach libc
    return str(request.param)


def test_word_embedding_rows_gather_distinct_rows_and_remap_ids(tmp_path: Path, reader: str) -> None:
    path, values = _table(tmp_path, rows=10)
    rows = WordEmbeddingRows(path, dim=4)
    assert rows.rows == 10
    ids = np.array([[0, 9, 3, 9], [3, 0, 0, 0]], dtype=np.int64)
    table, local = rows.gather(ids)
    assert table.dtype == np.float32
    np.testing.assert_array_equal(table, values[[0, 3, 9]])
    np.testing.assert_array_equal(local, [[0, 2, 1, 2], [1, 0, 0, 0]])
    np.testing.assert_array_equal(table[local], values[ids])
    rows.close()


def test_word_embedding_rows_past_the_end_or_not_finite_are_an_unavailable_index(tmp_path: Path, reader: str) -> None:
    path, values = _table(tmp_path, rows=10)
    rows = WordEmbeddingRows(path, dim=4)
    with pytest.raises(IndexUnavailable):
        rows.gather(np.array([[1, 10]], dtype=np.int64))
    values[2, 1] = np.nan
    values.tofile(path)
    with pytest.raises(IndexUnavailable):
        rows.gather(np.array([[2]], dtype=np.int64))
    rows.close()


def test_word_embedding_file_must_hold_whole_rows(tmp_path: Path) -> None:
    path, _ = _table(tmp_path, rows=3)
    with path.open("ab") as fh:
        fh.write(b"\0\0")
    with pytest.raises(ValueError, match="whole number"):
        WordEmbeddingRows(path, dim=4)
    path.write_bytes(b"")
    with pytest.raises(ValueError, match="whole number"):
        WordEmbeddingRows(path, dim=4)


def test_closed_word_embedding_rows_refuse_to_read(tmp_path: Path) -> None:
    path, _ = _table(tmp_path, rows=3)
    rows = WordEmbeddingRows(path, dim=4)
    rows.close()
    rows.close()
    with pytest.raises(RuntimeError, match="closed"):
        rows.gather(np.array([[0]], dtype=np.int64))
