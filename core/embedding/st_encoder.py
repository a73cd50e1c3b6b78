"""Encoder on sentence-transformers (torch): the reference vectors, used by ingest and to export ONNX."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from core.embedding.model_source import resolve_model_source
from core.embedding.port import Vectors
from core.embedding.threads import available_cpus

logger = logging.getLogger(__name__)


class SentenceTransformerEncoder:
    """Loads the model at construction; torch is imported here, never at module import.

    `num_threads` sets torch's intra-op threads (process-wide): by default every CPU this process may use,
    which suits ingest, a batch job that owns the machine. `show_progress` shows a progress bar per `encode`.
    """

    def __init__(
        self, model_name: str, *, num_threads: int | None = None, show_progress: bool = False
    ) -> None:
        source = resolve_model_source(model_name)
        local = Path(source).is_dir()
        if local:
            # Must be set before huggingface_hub is first imported to take effect; harmless otherwise.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import torch
        from sentence_transformers import SentenceTransformer

        threads = num_threads if num_threads is not None else available_cpus()
        torch.set_num_threads(max(1, threads))
        self._model: Any = SentenceTransformer(source, device="cpu", local_files_only=local)
        self._model.eval()
        self.name = model_name
        self.source = source
        dim, max_seq_length = self._model.get_embedding_dimension(), self._model.max_seq_length
        if dim is None or max_seq_length is None:
            raise ValueError(f"{model_name} does not declare its embedding dimension and max_seq_length")
        self.dim = int(dim)
        self.max_seq_length = int(max_seq_length)
        self.show_progress = show_progress
        logger.info(
            "Loaded %s from %s (dim %d, max_seq_length %d, %d torch threads)",
            model_name, source, self.dim, self.max_seq_length, torch.get_num_threads(),
        )

    @property
    def model(self) -> Any:
        """The underlying SentenceTransformer, for export."""
        return self._model

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=self.show_progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)
