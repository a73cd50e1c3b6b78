"""The serving path must not pull in torch: check sys.modules in a fresh interpreter."""

from __future__ import annotations

from tests.embedding.probe import heavy_modules_after


def test_probe_sees_torch_when_it_is_imported() -> None:
    assert "torch" in heavy_modules_after("import torch")


def test_importing_the_serving_encoder_and_batcher_does_not_import_torch() -> None:
    assert heavy_modules_after("import core.embedding.onnx_encoder, core.embedding.batcher") == []


def test_importing_the_ingest_modules_is_light_too() -> None:
    # torch is imported only when a model is actually loaded or exported.
    assert heavy_modules_after("import core.embedding.st_encoder, core.embedding.onnx_export") == []
