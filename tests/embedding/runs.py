"""Records the model runs an encoder makes: the token count of each text in each run."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from core.embedding.onnx_encoder import OnnxEncoder
from core.embedding.port import Vectors
from core.embedding.wordpiece import Encoding


def record_runs(monkeypatch: pytest.MonkeyPatch, encoder: OnnxEncoder, method: str) -> list[list[int]]:
    """Wraps `encoder.<method>` (`_run` or `_run_packed`); the list fills as the encoder runs the model."""
    runs: list[list[int]] = []
    real_run = getattr(encoder, method)

    def spy(encodings: Sequence[Encoding]) -> Vectors:
        runs.append([len(e.ids) for e in encodings])
        result: Vectors = real_run(encodings)
        return result

    monkeypatch.setattr(encoder, method, spy)
    return runs
