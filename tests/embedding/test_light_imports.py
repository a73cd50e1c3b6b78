"""The serving path must not pull in torch: check sys.modules in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from core.embedding.onnx_encoder import OnnxEncoder, mean_pool_normalize

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "transformers", "sentence_transformers")


def heavy_modules_after(code: str) -> list[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


def test_importing_the_serving_encoder_and_batcher_does_not_import_torch() -> None:
    assert heavy_modules_after("import core.embedding.onnx_encoder, core.embedding.batcher") == []


def test_importing_the_ingest_modules_is_light_too() -> None:
    # torch is imported only when a model is actually loaded or exported.
    assert heavy_modules_after("import core.embedding.st_encoder, core.embedding.onnx_export") == []


def test_missing_model_files_are_an_unavailable_index(tmp_path: Path) -> None:
    from core.errors import IndexUnavailable

    with pytest.raises(IndexUnavailable) as info:
        OnnxEncoder(tmp_path)
    assert "ingest" in info.value.user_message
    assert str(tmp_path) not in info.value.user_message


def test_mean_pooling_ignores_padding() -> None:
    import numpy as np

    hidden = np.array([[[1.0, 0.0], [0.0, 1.0], [100.0, 100.0]]], dtype=np.float32)
    mask = np.array([[1, 1, 0]], dtype=np.int64)
    pooled = mean_pool_normalize(hidden, mask)
    np.testing.assert_allclose(pooled, [[2**-0.5, 2**-0.5]], rtol=1e-6)
