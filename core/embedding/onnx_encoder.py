"""Query encoder on ONNX Runtime and a pure-Python WordPiece tokenizer (`core.embedding.wordpiece`, which
reads the exported tokenizer.json): the serving path never imports torch, transformers or `tokenizers`.

It reproduces sentence-transformers' all-MiniLM-L6-v2 pipeline: WordPiece tokens truncated at the model's
max_seq_length (256, not the 128 baked into the hub's tokenizer.json), BERT's last hidden state, mean pooling
over each text's own tokens, then L2 normalization, with several texts packed into a row (see
`core.embedding.packing`).
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import threading
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

from core.embedding.packing import PackedBatch
from core.embedding.port import Vectors
from core.embedding.threads import available_cpus
from core.embedding.wordpiece import Encoding, WordPieceTokenizer
from core.errors import IndexUnavailable

logger = logging.getLogger(__name__)

_UNREADABLE = (
    "The search index is incomplete: its query model is missing or unreadable. Rebuild it with `movie-bot ingest`."
)

MODEL_FILE = "model.onnx"
# The weights, stored next to the graph as ONNX external data: ONNX Runtime memory-maps them.
MODEL_DATA_FILE = "model.onnx.data"
# The word-embedding table, raw little-endian float32 rows, read a few rows per batch (see `WordEmbeddingRows`);
# the graph takes the rows a batch uses as the input WORD_EMBEDDINGS_INPUT.
WORD_EMBEDDINGS_FILE = "word_embeddings.f32"
WORD_EMBEDDINGS_INPUT = "word_embeddings"
# Inputs that let a row hold several texts (see `core.embedding.packing`).
POSITION_IDS_INPUT = "position_ids"
BLOCK_MASK_INPUT = "block_mask"
TOKENIZER_FILE = "tokenizer.json"
MANIFEST_FILE = "encoder.json"
# The one format this version writes and reads: a fused graph with its weights in model.onnx.data, the word
# embeddings in word_embeddings.f32, taking position ids and a block mask (packed rows). Older bundles are
# refused by the index manifest (core.index.manifest), which asks for a rebuild.
MANIFEST_FORMAT = 4
_ROW_DTYPE = np.dtype("<f4")
DEFAULT_MAX_THREADS = 2
SPIN_US = 100  # how long an idle intra-op thread spins before it sleeps (see OnnxEncoder)
# Tokens per model run: bounds activation memory whatever the batch, and small runs stay in cache. 256 lowers
# peak memory at the same throughput: 32 short queries take two runs instead of one, and a run's fixed cost is
# small beside its tokens (docs/performance.md).
DEFAULT_MAX_BATCH_TOKENS = 256


@dataclass(frozen=True, slots=True)
class EncoderManifest:
    """What export wrote next to the model, so serving needs neither torch nor the original model."""

    model_name: str
    dim: int
    max_seq_length: int
    sha256: dict[str, str]
    format: int = MANIFEST_FORMAT  # always MANIFEST_FORMAT: `read` refuses any other

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
        if data.get("format") != MANIFEST_FORMAT:
            raise ValueError(f"unsupported {MANIFEST_FILE} format {data.get('format')!r}")
        return cls(
            model_name=str(data["model_name"]),
            dim=int(data["dim"]),
            max_seq_length=int(data["max_seq_length"]),
            sha256={str(k): str(v) for k, v in data.get("sha256", {}).items()},
        )


def _pread_holding_the_gil() -> Callable[[int, int, int, int], int] | None:
    """libc's `pread(fd, address, size, offset)`, called without releasing the GIL; None if unreachable.

    Why: `os.pread` releases the GIL on every call, and a batch reads a row per distinct token (about 200 for
    32 queries). Under load the ranking thread holds the GIL for up to a millisecond at a time (Qdrant Edge
    keeps it through a search), so every release let it in and the encoder thread waited up to a switch
    interval to get the GIL back, while the model sat idle: that waiting was almost half of the encoder
    thread's time. A row comes from the page cache far faster than a switch, too short to be worth releasing
    the GIL for. Under concurrent load this gives more queries/s; a lone query is as fast either way
    (docs/performance.md).
    """
    try:
        libc = ctypes.PyDLL(None, use_errno=True)  # PyDLL: calls keep the GIL
        pread = libc.pread
    except (OSError, AttributeError):
        return None
    pread.restype = ctypes.c_ssize_t
    pread.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_long]  # off_t: a long
    return cast(Callable[[int, int, int, int], int], pread)


_PREAD = _pread_holding_the_gil()


class WordEmbeddingRows:
    """The word-embedding table, read row by row with pread as batches need them.

    Why: a query uses a few dozen of the table's rows, but from a memory-mapped table the kernel pages in
    64 KB or more around each row touched, and most of the table ended up resident (docs/performance.md).
    pread copies only the rows asked for and leaves nothing mapped. A batch's ids become indexes
    into its own small table, so EmbedLayerNormalization gathers the same numbers: vectors are bit-identical.

    The descriptor is closed by `close` or when the object is collected; reads and `close` share a lock, so
    a read never meets a closed (or reused) descriptor.
    """

    def __init__(self, path: Path, dim: int) -> None:
        self.dim = dim
        self._row_bytes = dim * _ROW_DTYPE.itemsize
        fd = os.open(path, os.O_RDONLY)  # not inherited by child processes (PEP 446)
        try:
            size = os.fstat(fd).st_size
            if size == 0 or size % self._row_bytes:
                raise ValueError(f"{path.name}: {size} bytes is not a whole number of {dim}-float rows")
        except BaseException:
            os.close(fd)
            raise
        self.rows = size // self._row_bytes
        self._fd = fd
        self._lock = threading.Lock()
        self._close_fd = weakref.finalize(self, os.close, fd)

    def gather(self, ids: NDArray[np.int64]) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
        """The rows of the distinct ids in `ids` (ascending), and `ids` remapped to indexes into them.

        Plain Python sets and one pread per row, straight into the table: small beside the model run.
        """
        flat = ids.ravel().tolist()
        unique = sorted(set(flat))
        raw = np.empty((len(unique), self.dim), dtype=_ROW_DTYPE)
        with self._lock:
            if not self._close_fd.alive:
                raise RuntimeError("the word-embedding table is closed")
            complete = self._read_rows(unique, raw)
        if not complete:  # the file shrank since it was opened
            logger.error("The word-embedding table is shorter than when it was opened")
            raise IndexUnavailable(_UNREADABLE)
        table = raw.astype(np.float32, copy=False)
        if not np.isfinite(table).all():  # random bytes in a float32 row almost surely hold a NaN or inf
            logger.error("The word-embedding table holds non-finite values: the file is corrupt")
            raise IndexUnavailable(_UNREADABLE)
        index = {token: k for k, token in enumerate(unique)}
        return table, np.array([index[token] for token in flat], dtype=np.int64).reshape(ids.shape)

    def _read_rows(self, tokens: list[int], out: NDArray[Any]) -> bool:
        """Reads the table's rows `tokens` into `out`, in that order; False if the file ended first."""
        size = self._row_bytes
        if _PREAD is None:
            data = b"".join([os.pread(self._fd, size, token * size) for token in tokens])
            if len(data) != len(tokens) * size:
                return False
            out.reshape(-1).view(np.uint8)[:] = np.frombuffer(data, dtype=np.uint8)
            return True
        address = out.ctypes.data
        for k, token in enumerate(tokens):
            read = _PREAD(self._fd, address + k * size, size, token * size)
            if read < 0:
                raise OSError(ctypes.get_errno(), "cannot read the word-embedding table")
            if read != size:
                return False
        return True

    def close(self) -> None:
        with self._lock:
            self._close_fd()


class OnnxEncoder:
    """Loads `model.onnx` (with `model.onnx.data` and `word_embeddings.f32`), `tokenizer.json` and `encoder.json`
    from `model_dir` (written by `export_onnx`).

    Tuned for a small 1-2 core machine: `intra_op_threads` defaults to min(2, CPUs available), one inter-op
    thread, sequential execution, and intra-op threads that spin for at most 100 us between a run's parallel
    ops and stop spinning when a run ends. A run is ~40 short parallel ops: without spinning each one wakes a
    sleeping thread, and with ONNX Runtime's default spinning the threads also burn CPU after the run; the
    bounded spin is faster than either and uses less CPU than the default.

    Export saves an already-fused graph (a little faster per single query than ONNX Runtime's own fusions of
    the traced graph) with its weights in `model.onnx.data`, which ONNX Runtime memory-maps: the session loads
    sooner and with far less memory. The word-embedding table is not in that file: `WordEmbeddingRows` reads
    the rows a batch uses, which lowers peak memory with bit-identical vectors.
    Weight prepacking stays on: turning it off saves no peak memory (the unpacked weights page in instead) and
    slows every query.
    The CPU memory arena stays on by default: turning it off raised peak RSS, as freed blocks go back to
    malloc, not to the OS; growing it by kSameAsRequested raised it too. The memory pattern is off: ONNX
    Runtime keeps a plan per input shape, and queries come in many lengths; off, peak RSS is lower at the same
    speed. `max_batch_tokens` caps the tokens of a run, so a burst of long queries costs more runs, not more
    memory.

    Several texts are packed into a row (see core.embedding.packing): a batch takes one or two runs instead
    of several, with no padding to speak of and the vectors its texts get alone.

    The figures behind each of these choices are in docs/performance.md.
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
            # Free on export's fused graph; faster on an older, unfused one (docs/performance.md).
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            options.enable_cpu_mem_arena = mem_arena
            options.enable_mem_pattern = False
            options.add_session_config_entry("session.intra_op.allow_spinning", "1")
            options.add_session_config_entry("session.intra_op.spin_duration_us", str(SPIN_US))
            options.add_session_config_entry("session.force_spinning_stop", "1")
            options.log_severity_level = 3
            session = ort.InferenceSession(
                str(directory / MODEL_FILE), sess_options=options, providers=["CPUExecutionProvider"]
            )
            input_names = frozenset(i.name for i in session.get_inputs())
            needed = {POSITION_IDS_INPUT, BLOCK_MASK_INPUT, WORD_EMBEDDINGS_INPUT}
            if not needed <= input_names:
                raise ValueError(f"the graph must take {sorted(needed)} as inputs")
            rows = _word_embedding_rows(directory, manifest.dim, tokenizer)
        except Exception as exc:  # onnxruntime raises its own types; an unsupported tokenizer, ValueError
            logger.error("Cannot load the ONNX query encoder from %s: %s", directory, exc)
            raise IndexUnavailable(_UNREADABLE) from exc

        self._tokenizer = tokenizer
        self._session = session
        self._rows = rows
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

    def vocabulary(self) -> list[str]:
        """The tokenizer's whole words, most common first (see core.spelling)."""
        return self._tokenizer.whole_words()

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> Vectors:
        """Longest texts first, in runs of at most `max_batch_tokens` tokens and `batch_size` texts, each packed
        into rows; results go back in input order."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(texts)
        order = sorted(range(len(encodings)), key=lambda i: -len(encodings[i].ids))
        chunk: list[int] = []
        tokens = 0
        for i in order:
            if chunk and (tokens + len(encodings[i].ids) > self.max_batch_tokens or len(chunk) >= batch_size):
                out[chunk] = self._run_packed([encodings[j] for j in chunk])
                chunk, tokens = [], 0
            chunk.append(i)
            tokens += len(encodings[i].ids)
        out[chunk] = self._run_packed([encodings[j] for j in chunk])
        return out

    def _run_packed(self, encodings: Sequence[Encoding]) -> Vectors:
        batch = PackedBatch.of(encodings, self._pad_id)
        feeds: dict[str, np.ndarray] = {
            "input_ids": batch.input_ids,
            "token_type_ids": batch.token_type_ids,
            POSITION_IDS_INPUT: batch.position_ids,
            BLOCK_MASK_INPUT: batch.block_mask,
        }
        feeds[WORD_EMBEDDINGS_INPUT], feeds["input_ids"] = self._rows.gather(batch.input_ids)
        (hidden,) = self._session.run(["last_hidden_state"], feeds)
        return batch.pool(np.asarray(hidden, dtype=np.float32))

    def close(self) -> None:
        """Close the word-embedding file now rather than at garbage collection; `encode` fails afterwards."""
        self._rows.close()


def _word_embedding_rows(directory: Path, dim: int, tokenizer: WordPieceTokenizer) -> WordEmbeddingRows:
    """Open the word-embedding table and check it covers every token id."""
    rows = WordEmbeddingRows(directory / WORD_EMBEDDINGS_FILE, dim)
    if rows.rows < tokenizer.vocab_size:
        rows.close()
        raise ValueError(f"{WORD_EMBEDDINGS_FILE} has {rows.rows} rows for {tokenizer.vocab_size} token ids")
    return rows
