"""Query encoder on ONNX Runtime and a pure-Python WordPiece tokenizer (`core.embedding.wordpiece`, which
reads the exported tokenizer.json): the serving path never imports torch, transformers or `tokenizers`.

It reproduces sentence-transformers' all-MiniLM-L6-v2 pipeline: WordPiece tokens truncated at the model's
max_seq_length (256, not the 128 baked into the hub's tokenizer.json), padded only to the longest text of a
batch, BERT's last hidden state, mean pooling over real tokens (padding masked out), then L2 normalization.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from core.embedding.port import Vectors
from core.embedding.threads import available_cpus
from core.embedding.wordpiece import Encoding, WordPieceTokenizer
from core.errors import IndexUnavailable

logger = logging.getLogger(__name__)

MODEL_FILE = "model.onnx"
# The weights, stored next to the graph as ONNX external data: ONNX Runtime memory-maps them.
MODEL_DATA_FILE = "model.onnx.data"
TOKENIZER_FILE = "tokenizer.json"
MANIFEST_FILE = "encoder.json"
# 1: one self-contained model.onnx; 2: a fused graph with its weights in model.onnx.data. Serving reads both,
# and ingest exports again when the live bundle's encoder is of an older format.
MANIFEST_FORMAT = 2
READABLE_FORMATS = frozenset({1, 2})
DEFAULT_MAX_THREADS = 2
# Rows x padded length per model run: bounds activation memory whatever the batch. Measured (2 cores, fused
# graph), 64 queries of about 23 tokens add 48 MB of activations with 2048, 14 MB with 512; small runs stay
# in cache, so 512 is also faster per query (3.1 vs 4.1 ms). 256 saves 7 MB more but runs long queries alone.
DEFAULT_MAX_BATCH_TOKENS = 512


@dataclass(frozen=True, slots=True)
class EncoderManifest:
    """What export wrote next to the model, so serving needs neither torch nor the original model."""

    model_name: str
    dim: int
    max_seq_length: int
    sha256: dict[str, str]
    format: int = MANIFEST_FORMAT

    def to_json(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "model_name": self.model_name,
            "dim": self.dim,
            "max_seq_length": self.max_seq_length,
            "sha256": dict(self.sha256),
        }

    @classmethod
    def read(cls, model_dir: Path) -> EncoderManifest:
        data = json.loads((model_dir / MANIFEST_FILE).read_text(encoding="utf-8"))
        if data.get("format") not in READABLE_FORMATS:
            raise ValueError(f"unsupported {MANIFEST_FILE} format {data.get('format')!r}")
        return cls(
            model_name=str(data["model_name"]),
            dim=int(data["dim"]),
            max_seq_length=int(data["max_seq_length"]),
            sha256={str(k): str(v) for k, v in data.get("sha256", {}).items()},
            format=int(data["format"]),
        )


class OnnxEncoder:
    """Loads `model.onnx` (with `model.onnx.data`), `tokenizer.json` and `encoder.json` from `model_dir`
    (written by `export_onnx`).

    Tuned for a small 1-2 core machine: `intra_op_threads` defaults to min(2, CPUs available), one inter-op
    thread, sequential execution, and no thread spinning (measured on 2 shared cores: spinning makes a single
    query about 20% faster but costs 7-18% more CPU per query, taken from the event loop and the index search).

    Export saves an already-fused graph (2-5% faster per single query than ONNX Runtime's own fusions of the
    traced graph) with its weights in `model.onnx.data`, which ONNX Runtime memory-maps: the session loads in
    about 21 ms instead of 113 ms, loading adds 56 MB RSS (the prepacked MatMul weights) instead of 133 MB, and
    the embedding table pages in from the file (clean pages the kernel may drop) as queries use it. Measured
    peak RSS of a process that loads the encoder and encodes 64 queries: 177 MB, against 243 MB with the
    unfused, single-file model and a 2048-token budget (onnxruntime imported, no session: 60 MB). Weight
    prepacking stays on: turning it off saves no peak memory (the unpacked weights page in instead: 176 MB) and
    slows a query by about 45%.
    The CPU memory arena stays on by default: re-measured, turning it off raised peak RSS (183 vs 177 MB; 218 vs
    201 MB after long texts), as freed blocks go back to malloc, not to the OS. `max_batch_tokens` caps rows x
    padded length per run, so a burst of long queries costs more runs, not more memory.
    """

    def __init__(
        self,
        model_dir: str | Path,
        *,
        intra_op_threads: int | None = None,
        mem_arena: bool = True,
        max_batch_tokens: int = DEFAULT_MAX_BATCH_TOKENS,
    ) -> None:
        import onnxruntime as ort

        directory = Path(model_dir)
        try:
            manifest = EncoderManifest.read(directory)
            # Truncation at the model's limit, whatever the file says; no padding (batches pad themselves).
            tokenizer = WordPieceTokenizer.from_file(directory / TOKENIZER_FILE, max_length=manifest.max_seq_length)
            threads = intra_op_threads or min(DEFAULT_MAX_THREADS, available_cpus())
            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            # Free on export's fused graph (loads in 21 ms at any level); 4-8% faster on an older, unfused one.
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            options.enable_cpu_mem_arena = mem_arena
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            options.log_severity_level = 3
            session = ort.InferenceSession(
                str(directory / MODEL_FILE), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own types; an unsupported tokenizer, ValueError
            logger.error("Cannot load the ONNX query encoder from %s: %s", directory, exc)
            raise IndexUnavailable(
                "The search index is incomplete: its query model is missing or unreadable. "
                "Rebuild it with `movie-bot ingest`."
            ) from exc

        self._tokenizer = tokenizer
        self._session = session
        self._input_names = frozenset(i.name for i in session.get_inputs())
        self._pad_id = tokenizer.token_to_id("[PAD]") or 0
        self.name = manifest.model_name
        self.dim = manifest.dim
        self.max_seq_length = manifest.max_seq_length
        self.threads = threads
        self.max_batch_tokens = max(1, max_batch_tokens)
        logger.info(
            "Loaded ONNX encoder for %s (dim %d, max_seq_length %d, %d intra-op threads, mem arena %s)",
            self.name, self.dim, self.max_seq_length, threads, "on" if mem_arena else "off",
        )

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> Vectors:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(texts)
        # Batches of similar length waste little compute on padding; results go back in input order.
        order = sorted(range(len(encodings)), key=lambda i: len(encodings[i].ids))
        chunk: list[int] = []
        for i in order:
            # Sorted ascending, so the newcomer sets the padded length of the chunk.
            rows = len(chunk) + 1
            if chunk and (rows > batch_size or rows * len(encodings[i].ids) > self.max_batch_tokens):
                out[chunk] = self._run([encodings[j] for j in chunk])
                chunk = []
            chunk.append(i)
        out[chunk] = self._run([encodings[j] for j in chunk])
        return out

    def _run(self, encodings: Sequence[Encoding]) -> Vectors:
        """Pad one batch to its longest member, run the model, and pool."""
        length = max(len(e.ids) for e in encodings)
        ids = np.full((len(encodings), length), self._pad_id, dtype=np.int64)
        mask = np.zeros((len(encodings), length), dtype=np.int64)
        types = np.zeros((len(encodings), length), dtype=np.int64)
        for row, enc in enumerate(encodings):
            n = len(enc.ids)
            ids[row, :n] = enc.ids
            mask[row, :n] = enc.attention_mask
            types[row, :n] = enc.type_ids
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        (hidden,) = self._session.run(
            ["last_hidden_state"], {k: v for k, v in feeds.items() if k in self._input_names}
        )
        return mean_pool_normalize(np.asarray(hidden, dtype=np.float32), mask)


def mean_pool_normalize(hidden: NDArray[np.float32], mask: NDArray[np.int64]) -> Vectors:
    """Average token vectors over real tokens only, then scale rows to unit length, as ST does."""
    weights = mask.astype(np.float32)[:, :, None]
    summed = (hidden * weights).sum(axis=1)
    counts = np.clip(weights.sum(axis=1), 1e-9, None)
    pooled = summed / counts
    norms = np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
    normalized: Vectors = (pooled / norms).astype(np.float32)
    return normalized
