"""Real-model fixtures, built once per session: loading and exporting the model takes seconds."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.embedding.onnx_encoder import OnnxEncoder
from core.embedding.st_encoder import SentenceTransformerEncoder
from core.settings import DEFAULT_MODEL

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def st_encoder() -> SentenceTransformerEncoder:
    pytest.importorskip("sentence_transformers")
    return SentenceTransformerEncoder(DEFAULT_MODEL)


@pytest.fixture(scope="session")
def onnx_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("sentence_transformers")
    from core.embedding.onnx_export import export_onnx

    return export_onnx(DEFAULT_MODEL, tmp_path_factory.mktemp("onnx")).model_dir


@pytest.fixture(scope="session")
def onnx_encoder(onnx_dir: Path) -> OnnxEncoder:
    return OnnxEncoder(onnx_dir)
