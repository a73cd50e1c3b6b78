"""The encoder contract shared by ingest (sentence-transformers) and serving (ONNX Runtime)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

Vectors = NDArray[np.float32]


class TextEncoder(Protocol):
    """Turns texts into vectors that can be compared by dot product.

    `name` is the configured model name, so an index can record which model built it; two encoders with the
    same name must give (nearly) the same vectors. `encode` returns float32 of shape (len(texts), dim) with
    L2-normalized rows, and shape (0, dim) for no texts. It blocks: async callers run it in a worker thread.
    """

    name: str
    dim: int

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> Vectors: ...


@runtime_checkable
class KnowsWords(Protocol):
    """An encoder that can list the words its tokenizer knows whole, most common first (for core.spelling)."""

    def vocabulary(self) -> list[str]: ...
