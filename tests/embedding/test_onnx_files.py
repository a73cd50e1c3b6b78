"""The encoder's word-embedding file and lifecycle, on the real exported model: a missing or damaged file is an
unavailable index, not a crash; close, reopen and concurrent encodes give the same vectors."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from core.embedding.onnx_encoder import (
    MANIFEST_FILE,
    MODEL_DATA_FILE,
    MODEL_FILE,
    TOKENIZER_FILE,
    WORD_EMBEDDINGS_FILE,
    OnnxEncoder,
)
from core.errors import IndexUnavailable
from tests.embedding.texts import LONG_TEXTS, QUERIES

pytestmark = pytest.mark.slow

ROW_BYTES = 384 * 4


def _copy_bundle(onnx_dir: Path, tmp_path: Path) -> Path:
    """A private bundle whose word-embedding file a test may damage (the rest are symlinks)."""
    out = tmp_path / "bundle"
    out.mkdir()
    for name in (MODEL_FILE, MODEL_DATA_FILE, TOKENIZER_FILE, MANIFEST_FILE):
        (out / name).symlink_to(onnx_dir / name)
    shutil.copy(onnx_dir / WORD_EMBEDDINGS_FILE, out / WORD_EMBEDDINGS_FILE)
    return out


@pytest.mark.parametrize("damage", ["missing", "truncated mid-row", "truncated by whole rows", "empty"])
def test_a_missing_or_truncated_embeddings_file_is_an_unavailable_index(
    damage: str, onnx_dir: Path, tmp_path: Path
) -> None:
    bundle = _copy_bundle(onnx_dir, tmp_path)
    path = bundle / WORD_EMBEDDINGS_FILE
    size = path.stat().st_size
    if damage == "missing":
        path.unlink()
    else:
        new_size = {"truncated mid-row": size - 100, "truncated by whole rows": size - ROW_BYTES, "empty": 0}[damage]
        with path.open("r+b") as fh:
            fh.truncate(new_size)
    with pytest.raises(IndexUnavailable) as info:
        OnnxEncoder(bundle)
    assert "ingest" in info.value.user_message


def test_an_embeddings_file_damaged_after_loading_is_an_unavailable_index(onnx_dir: Path, tmp_path: Path) -> None:
    bundle = _copy_bundle(onnx_dir, tmp_path)
    encoder = OnnxEncoder(bundle)
    path = bundle / WORD_EMBEDDINGS_FILE
    with path.open("r+b") as fh:
        fh.write(b"\xff" * ROW_BYTES * 200)  # rows 0-199 ([PAD], [CLS] among them) become NaN
    with pytest.raises(IndexUnavailable):
        encoder.encode(["a space rescue"])
    with path.open("r+b") as fh:
        fh.truncate(ROW_BYTES * 1000)  # below most word ids
    with pytest.raises(IndexUnavailable):
        encoder.encode(["an astronaut stranded on mars"])
    encoder.close()


def test_close_and_reopen(onnx_dir: Path, onnx_encoder: OnnxEncoder) -> None:
    encoder = OnnxEncoder(onnx_dir)
    expected = onnx_encoder.encode(QUERIES)
    np.testing.assert_array_equal(encoder.encode(QUERIES), expected)
    encoder.close()
    encoder.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        encoder.encode(QUERIES)
    reopened = OnnxEncoder(onnx_dir)
    np.testing.assert_array_equal(reopened.encode(QUERIES), expected)
    reopened.close()


def test_concurrent_encodes_equal_sequential_ones(onnx_encoder: OnnxEncoder) -> None:
    texts = [*QUERIES, *LONG_TEXTS[:2]]
    expected = onnx_encoder.encode(texts)
    results: list[np.ndarray] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(3):
                results.append(onnx_encoder.encode(texts))
        except BaseException as exc:  # surfaced by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(results) == 12
    for result in results:
        np.testing.assert_array_equal(result, expected)
