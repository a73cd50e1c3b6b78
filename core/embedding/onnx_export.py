"""Export the sentence-transformers model to ONNX for torch-free serving, and prove the two agree.

Ingest runs this: it owns torch anyway, and the exported files go into the index bundle so that the query
model always matches the one that built the vectors.

The traced graph (about 600 plain ops) is fused offline by ONNX Runtime's transformer optimizer into one
EmbedLayerNormalization, then per layer an Attention, a BiasGelu and two SkipLayerNormalization ops (fp32,
exact math: parity stays at cosine 0.9999999). Serving then loads an already-fused graph. The weights go to
`model.onnx.data` next to `model.onnx`, which ONNX Runtime memory-maps instead of copying (see `OnnxEncoder`),
except the word-embedding table: it goes to `word_embeddings.f32`, read a few rows per batch, and the graph
takes those rows as an input (see `WordEmbeddingRows`). The graph also takes position ids and a block mask, so
a row can hold several texts (see `core.embedding.packing`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.embedding.onnx_encoder import (
    BLOCK_MASK_INPUT,
    MANIFEST_FILE,
    MODEL_DATA_FILE,
    MODEL_FILE,
    POSITION_IDS_INPUT,
    TOKENIZER_FILE,
    WORD_EMBEDDINGS_FILE,
    WORD_EMBEDDINGS_INPUT,
    EncoderManifest,
)
from core.embedding.port import TextEncoder, Vectors
from core.embedding.st_encoder import SentenceTransformerEncoder

logger = logging.getLogger(__name__)

ONNX_OPSET = 17
MIN_PARITY_COSINE = 0.9999
TOP_K = 5
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_TRACED_FILE = "model.traced.onnx"  # torch's unfused graph, deleted once fused into MODEL_FILE

SearchFn = Callable[[Vectors], Sequence[str]]
"""Ranks the catalog for one query vector (shape (dim,)) and returns ids, best first."""


@dataclass(frozen=True, slots=True)
class OnnxArtifacts:
    """The files `OnnxEncoder` loads, with what an index bundle records about them."""

    model_dir: Path
    model_name: str
    dim: int
    max_seq_length: int
    sha256: dict[str, str]


@dataclass(frozen=True, slots=True)
class ParityReport:
    """How closely ONNX vectors match sentence-transformers vectors for the same texts."""

    n_texts: int
    min_cosine: float
    mean_cosine: float
    top5_checked: int = 0
    top5_mismatches: tuple[str, ...] = ()
    threshold: float = MIN_PARITY_COSINE

    @property
    def ok(self) -> bool:
        return self.n_texts > 0 and self.min_cosine >= self.threshold and not self.top5_mismatches


def export_onnx(st_model_name: str, out_dir: str | Path) -> OnnxArtifacts:
    """Write `model.onnx` (fused graph, fp32, dynamic batch and sequence) with its weights in
    `model.onnx.data` and `word_embeddings.f32`, `tokenizer.json` and `encoder.json` to `out_dir`.

    fp32 on purpose: int8 dynamic quantization moves vectors too far (mean cosine about 0.955).
    """
    import torch

    st = SentenceTransformerEncoder(st_model_name)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    transformer = st.model[0]
    bert = transformer.auto_model
    # Eager attention traces to plain ops with the padding mask applied explicitly, whatever shortcuts the
    # SDPA path takes for the example input at trace time.
    bert.set_attn_implementation("eager")
    wrapper = _last_hidden_state_module(bert).eval()

    tokenizer = _serving_tokenizer(transformer.tokenizer.backend_tokenizer, st.max_seq_length)
    tokenizer.save(str(out / TOKENIZER_FILE))

    # Two texts of different lengths, so the example batch carries padding.
    sample = tokenizer.encode_batch(["a short text", "a somewhat longer text for the export example"])
    length = max(len(e.ids) for e in sample)
    example = tuple(
        torch.tensor([getattr(e, attr) + [0] * (length - len(e.ids)) for e in sample], dtype=torch.int64)
        for attr in ("ids", "attention_mask", "type_ids")
    )
    axes = {name: {0: "batch", 1: "sequence"} for name in (*_INPUTS, "last_hidden_state")}
    traced = out / _TRACED_FILE
    config = bert.config
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore", category=torch.jit.TracerWarning)  # type: ignore[attr-defined]
            warnings.simplefilter("ignore", category=DeprecationWarning)
            warnings.filterwarnings("ignore", message="Exporting aten::index", category=UserWarning)
            torch.onnx.export(
                wrapper,
                example,
                str(traced),
                input_names=list(_INPUTS),
                output_names=["last_hidden_state"],
                dynamic_axes=axes,
                opset_version=ONNX_OPSET,
                do_constant_folding=True,
                dynamo=False,
            )
        _fuse_and_save(traced, out, config.num_attention_heads, config.hidden_size, config.num_hidden_layers)
    finally:
        traced.unlink(missing_ok=True)

    weights = (MODEL_FILE, MODEL_DATA_FILE, WORD_EMBEDDINGS_FILE)
    sha = {name: _sha256(out / name) for name in (*weights, TOKENIZER_FILE)}
    manifest = EncoderManifest(st_model_name, st.dim, st.max_seq_length, sha)
    manifest_text = json.dumps(manifest.to_json(), indent=2, sort_keys=True) + "\n"
    (out / MANIFEST_FILE).write_text(manifest_text, encoding="utf-8")
    size = sum((out / name).stat().st_size for name in weights)
    logger.info("Exported %s to %s (%.1f MB)", st_model_name, out, size / 1e6)
    return OnnxArtifacts(out, st_model_name, st.dim, st.max_seq_length, sha)


def verify_parity(
    onnx_encoder: TextEncoder,
    st_encoder: TextEncoder,
    texts: Sequence[str],
    queries: Sequence[str] = (),
    search_fn: SearchFn | None = None,
) -> ParityReport:
    """Compare both encoders on `texts` and `queries` (cosine per text); with `search_fn`, also require the
    same top-5 ids for every query, which is what users would notice.
    """
    sample = [*texts, *queries]
    a = onnx_encoder.encode(sample)
    b = st_encoder.encode(sample)
    cosines = np.sum(a.astype(np.float64) * b.astype(np.float64), axis=1) if sample else np.zeros(0)
    mismatches: list[str] = []
    if search_fn is not None and queries:
        for i, query in enumerate(queries, start=len(texts)):
            if list(search_fn(a[i])[:TOP_K]) != list(search_fn(b[i])[:TOP_K]):
                mismatches.append(query)
    report = ParityReport(
        n_texts=len(sample),
        min_cosine=float(cosines.min()) if sample else 0.0,
        mean_cosine=float(cosines.mean()) if sample else 0.0,
        top5_checked=len(queries) if search_fn is not None else 0,
        top5_mismatches=tuple(mismatches),
    )
    log = logger.info if report.ok else logger.error
    log(
        "ONNX parity on %d texts: min cosine %.6f, mean %.6f; top-5 differs for %d of %d queries",
        report.n_texts, report.min_cosine, report.mean_cosine, len(mismatches), report.top5_checked,
    )
    return report


def _last_hidden_state_module(bert: Any) -> Any:
    """Wrap BertModel so the traced graph takes three named tensors and returns only `last_hidden_state`."""
    import torch

    class LastHiddenState(torch.nn.Module):
        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    return LastHiddenState(bert)


def _fuse_and_save(traced: Path, out: Path, num_heads: int, hidden_size: int, num_layers: int) -> None:
    """Fuse the traced BERT graph with ONNX Runtime's transformer optimizer and save it with external weights.

    opt_level=0 runs only the optimizer's own graph fusions, not ONNX Runtime's session-level rewrites, so the
    saved graph has no CPU-specific layout and loads on any machine. It is also a little faster per single query
    than the traced graph with all of ONNX Runtime's session optimizations, and its session builds sooner
    (docs/performance.md).
    """
    import onnx
    from onnxruntime.transformers.optimizer import optimize_model

    optimized = optimize_model(
        str(traced), model_type="bert", num_heads=num_heads, hidden_size=hidden_size, opt_level=0, use_gpu=False
    )
    fused = optimized.get_fused_operator_statistics()
    if fused.get("Attention", 0) != num_layers or fused.get("EmbedLayerNormalization", 0) != 1:
        # Still correct (parity is checked after export), only slower: worth a look after a library upgrade. A
        # missing EmbedLayerNormalization stops the export below, as format 3 takes the word embeddings from it.
        logger.warning("The ONNX graph was only partly fused: %s", fused)
    split_word_embeddings(optimized.model, out / WORD_EMBEDDINGS_FILE)
    accept_packed_rows(optimized.model)
    model_path = out / MODEL_FILE
    # Sorts the nodes, declares the com.microsoft opset of the fused ops, replaces any old data file, and
    # names the data file after the model: `model.onnx.data`.
    optimized.save_model_to_file(str(model_path), use_external_data_format=True, all_tensors_to_one_file=True)
    data_path = out / MODEL_DATA_FILE
    if not data_path.is_file():
        raise RuntimeError(f"ONNX export wrote no {MODEL_DATA_FILE} next to {model_path}")
    # onnx writes the data file owner-only; serve may run as another user.
    for path in (data_path, out / WORD_EMBEDDINGS_FILE):
        path.chmod(model_path.stat().st_mode & 0o777)
    onnx.checker.check_model(str(model_path))


def split_word_embeddings(model: Any, path: Path) -> None:
    """Move the word-embedding table of the fused graph's EmbedLayerNormalization out of the graph, into `path`
    as raw little-endian float32 rows, and make it the graph input `word_embeddings` (format 3).

    EmbedLayerNormalization only gathers rows of that input by id, so serving can feed just the rows a batch
    uses, with the ids remapped, and gets the same numbers (see `WordEmbeddingRows`).
    """
    from onnx import TensorProto, helper, numpy_helper

    graph = model.graph
    embed = [node for node in graph.node if node.op_type == "EmbedLayerNormalization"]
    if len(embed) != 1:
        raise RuntimeError(f"expected one EmbedLayerNormalization in the fused graph, found {len(embed)}")
    name = embed[0].input[2]  # inputs: input_ids, segment_ids, word_embedding, ...
    users = [node for node in graph.node for i in node.input if i == name]
    initializer = next((t for t in graph.initializer if t.name == name), None)
    if initializer is None or len(users) != 1:
        raise RuntimeError(f"the word embeddings {name!r} are not a constant used by EmbedLayerNormalization alone")
    table = numpy_helper.to_array(initializer)
    table.astype("<f4").tofile(path)
    graph.initializer.remove(initializer)
    embed[0].input[2] = WORD_EMBEDDINGS_INPUT
    graph.input.append(
        helper.make_tensor_value_info(WORD_EMBEDDINGS_INPUT, TensorProto.FLOAT, ["rows", int(table.shape[1])])
    )


def accept_packed_rows(model: Any) -> None:
    """Let a row hold several texts (format 4): EmbedLayerNormalization takes the position ids as the input
    `position_ids` (restarting at each text) and every Attention takes `block_mask` (batch, sequence,
    sequence; 1 where a token may attend to another) instead of the padding mask, which nothing reads any more.

    The padding mask only told each row's length; a block mask also keeps the texts of a row apart. Masked
    scores get -10000 before the softmax, which rounds to exactly 0, so a text attends as if it were alone.
    """
    from onnx import TensorProto, helper

    graph = model.graph
    (embed,) = (node for node in graph.node if node.op_type == "EmbedLayerNormalization")
    attention = [node for node in graph.node if node.op_type == "Attention"]
    # EmbedLayerNormalization inputs: ..., 7 mask, 8 position_ids; outputs: embeddings, mask index.
    if len(embed.input) < 8 or not attention or any(node.input[3] != embed.output[1] for node in attention):
        raise RuntimeError("the fused graph's attention does not read EmbedLayerNormalization's mask index")
    for node in attention:
        node.input[3] = BLOCK_MASK_INPUT
    padding_mask = embed.input[7]
    del embed.input[7:]
    embed.input.extend(["", POSITION_IDS_INPUT])
    # The padding mask's Cast, and the graph input it read, have no other use: drop them.
    mask_cast = next((node for node in graph.node if padding_mask in node.output), None)
    if mask_cast is not None and not any(padding_mask in node.input for node in graph.node):
        graph.node.remove(mask_cast)
        source = mask_cast.input[0]
        unused = [i for i in graph.input if i.name == source and not any(source in n.input for n in graph.node)]
        for graph_input in unused:
            graph.input.remove(graph_input)
    graph.input.extend([
        helper.make_tensor_value_info(POSITION_IDS_INPUT, TensorProto.INT32, ["batch", "sequence"]),
        helper.make_tensor_value_info(BLOCK_MASK_INPUT, TensorProto.INT32, ["batch", "sequence", "sequence"]),
    ])


def _serving_tokenizer(backend: Any, max_seq_length: int) -> Any:
    """A copy of the fast tokenizer truncating at `max_seq_length` with no fixed padding (the hub file pads
    and truncates at 128)."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_str(backend.to_str())
    tokenizer.enable_truncation(max_length=max_seq_length)
    tokenizer.no_padding()
    return tokenizer


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
