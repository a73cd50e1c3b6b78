"""Export the sentence-transformers model to ONNX for torch-free serving, and prove the two agree.

Ingest runs this: it owns torch anyway, and the exported files go into the index bundle so that the query
model always matches the one that built the vectors.
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

from core.embedding.onnx_encoder import MANIFEST_FILE, MODEL_FILE, TOKENIZER_FILE, EncoderManifest
from core.embedding.port import TextEncoder, Vectors
from core.embedding.st_encoder import SentenceTransformerEncoder

logger = logging.getLogger(__name__)

ONNX_OPSET = 17
MIN_PARITY_COSINE = 0.9999
TOP_K = 5
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")

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
    """Write `model.onnx` (fp32, dynamic batch and sequence), `tokenizer.json`, `encoder.json` to `out_dir`.

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
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", category=torch.jit.TracerWarning)  # type: ignore[attr-defined]
        warnings.simplefilter("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message="Exporting aten::index", category=UserWarning)
        torch.onnx.export(
            wrapper,
            example,
            str(out / MODEL_FILE),
            input_names=list(_INPUTS),
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=ONNX_OPSET,
            do_constant_folding=True,
            dynamo=False,
        )
    import onnx

    onnx.checker.check_model(str(out / MODEL_FILE))

    sha = {name: _sha256(out / name) for name in (MODEL_FILE, TOKENIZER_FILE)}
    manifest = EncoderManifest(st_model_name, st.dim, st.max_seq_length, sha)
    manifest_text = json.dumps(manifest.to_json(), indent=2, sort_keys=True) + "\n"
    (out / MANIFEST_FILE).write_text(manifest_text, encoding="utf-8")
    logger.info("Exported %s to %s (%.1f MB)", st_model_name, out, (out / MODEL_FILE).stat().st_size / 1e6)
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
