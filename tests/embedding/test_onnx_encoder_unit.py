"""OnnxEncoder pieces that need no model: the word-embedding file, and the errors for a missing or older bundle."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.embedding import onnx_encoder
from core.embedding.onnx_encoder import MANIFEST_FILE, EncoderManifest, OnnxEncoder, WordEmbeddingRows
from core.errors import IndexUnavailable


def test_missing_model_files_are_an_unavailable_index(tmp_path: Path) -> None:
    with pytest.raises(IndexUnavailable) as info:
        OnnxEncoder(tmp_path)
    assert "ingest" in info.value.user_message
    assert str(tmp_path) not in info.value.user_message


@pytest.mark.parametrize("fmt", [1, 2, 3, None])
def test_an_older_encoder_format_is_refused_with_a_rebuild_message(tmp_path: Path, fmt: int | None) -> None:
    manifest = {"model_name": "m", "dim": 4, "max_seq_length": 8, "sha256": {}} | ({"format": fmt} if fmt else {})
    (tmp_path / MANIFEST_FILE).write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(ValueError, match="format"):
        EncoderManifest.read(tmp_path)
    with pytest.raises(IndexUnavailable) as info:
        OnnxEncoder(tmp_path)
    assert "movie-bot ingest" in info.value.user_message


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
