"""The exported ONNX encoder against sentence-transformers, on the real model (exported once per session)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from tokenizers import Tokenizer

from core.embedding.batcher import QueryBatcher
from core.embedding.onnx_encoder import (
    BLOCK_MASK_INPUT,
    MANIFEST_FILE,
    MANIFEST_FORMAT,
    MODEL_DATA_FILE,
    MODEL_FILE,
    POSITION_IDS_INPUT,
    TOKENIZER_FILE,
    WORD_EMBEDDINGS_FILE,
    WORD_EMBEDDINGS_INPUT,
    OnnxEncoder,
)
from core.embedding.onnx_export import MIN_PARITY_COSINE, verify_parity
from core.embedding.port import Vectors
from core.embedding.st_encoder import SentenceTransformerEncoder
from core.settings import DEFAULT_MODEL
from tests.embedding.probe import heavy_modules_after
from tests.embedding.runs import record_runs
from tests.embedding.texts import LONG_TEXTS, OVER_LIMIT_TEXT, OVERVIEWS, PARITY_TEXTS, QUERIES, SHORT_TEXTS

pytestmark = pytest.mark.slow


def test_export_writes_model_tokenizer_and_manifest_with_checksums(onnx_dir: Path) -> None:
    manifest = json.loads((onnx_dir / MANIFEST_FILE).read_text())
    assert manifest["format"] == MANIFEST_FORMAT == 4
    assert manifest["model_name"] == DEFAULT_MODEL
    assert manifest["dim"] == 384
    assert manifest["max_seq_length"] == 256
    for name in (MODEL_FILE, MODEL_DATA_FILE, WORD_EMBEDDINGS_FILE, TOKENIZER_FILE):
        assert manifest["sha256"][name] == hashlib.sha256((onnx_dir / name).read_bytes()).hexdigest()
    tokenizer = json.loads((onnx_dir / TOKENIZER_FILE).read_text())
    assert tokenizer["truncation"]["max_length"] == 256
    assert tokenizer["padding"] is None


def test_export_saves_a_fused_graph_with_external_weights(onnx_dir: Path) -> None:
    import onnx

    model = onnx.load(str(onnx_dir / MODEL_FILE), load_external_data=False)
    ops = Counter(node.op_type for node in model.graph.node)
    assert ops["EmbedLayerNormalization"] == 1
    assert ops["Attention"] == 6
    assert ops["SkipLayerNormalization"] == 12
    # Every large weight lives in the data file, which ONNX Runtime memory-maps instead of copying...
    assert all(
        t.data_location == onnx.TensorProto.EXTERNAL for t in model.graph.initializer if len(t.dims) == 2
    )
    assert (onnx_dir / MODEL_FILE).stat().st_size < 1_000_000
    assert (onnx_dir / MODEL_DATA_FILE).stat().st_size > 40_000_000
    # ...but the word embeddings, which the graph takes as an input, from a raw float32 file of 30,522 rows.
    (embed,) = (node for node in model.graph.node if node.op_type == "EmbedLayerNormalization")
    assert embed.input[2] == WORD_EMBEDDINGS_INPUT
    assert WORD_EMBEDDINGS_INPUT in {i.name for i in model.graph.input}
    assert WORD_EMBEDDINGS_INPUT not in {t.name for t in model.graph.initializer}
    assert (onnx_dir / WORD_EMBEDDINGS_FILE).stat().st_size == 30522 * 384 * 4
    assert not list(onnx_dir.glob("*.traced.onnx"))
    # Packed rows: position ids restart at each text, and attention reads a block mask, not a padding mask.
    inputs = {i.name for i in model.graph.input}
    assert inputs == {"input_ids", "token_type_ids", WORD_EMBEDDINGS_INPUT, POSITION_IDS_INPUT, BLOCK_MASK_INPUT}
    assert embed.input[8] == POSITION_IDS_INPUT
    assert all(node.input[3] == BLOCK_MASK_INPUT for node in model.graph.node if node.op_type == "Attention")


def test_long_texts_are_long_enough_to_expose_128_token_truncation(onnx_dir: Path) -> None:
    tokenizer = Tokenizer.from_file(str(onnx_dir / TOKENIZER_FILE))
    lengths = [len(tokenizer.encode(text).ids) for text in LONG_TEXTS]
    assert all(150 <= n <= 250 for n in lengths), lengths
    assert len(tokenizer.encode(OVER_LIMIT_TEXT).ids) == 256


def test_onnx_matches_sentence_transformers(
    onnx_encoder: OnnxEncoder, st_encoder: SentenceTransformerEncoder
) -> None:
    assert onnx_encoder.name == st_encoder.name == DEFAULT_MODEL
    assert onnx_encoder.dim == st_encoder.dim == 384
    report = verify_parity(onnx_encoder, st_encoder, PARITY_TEXTS, QUERIES)
    assert report.n_texts == len(PARITY_TEXTS) + len(QUERIES) >= 50
    assert report.min_cosine >= MIN_PARITY_COSINE, report
    assert report.ok


def test_parity_check_catches_truncation_at_128_tokens(
    onnx_dir: Path, st_encoder: SentenceTransformerEncoder, tmp_path: Path
) -> None:
    # The same model, but truncating at the hub tokenizer's 128: long texts must fail parity.
    for name in (MODEL_FILE, MODEL_DATA_FILE, WORD_EMBEDDINGS_FILE):
        (tmp_path / name).symlink_to(onnx_dir / name)
    shutil.copy(onnx_dir / TOKENIZER_FILE, tmp_path / TOKENIZER_FILE)
    manifest = json.loads((onnx_dir / MANIFEST_FILE).read_text())
    (tmp_path / MANIFEST_FILE).write_text(json.dumps({**manifest, "max_seq_length": 128}))
    truncated = OnnxEncoder(tmp_path)
    assert verify_parity(truncated, st_encoder, SHORT_TEXTS + OVERVIEWS).ok
    assert not verify_parity(truncated, st_encoder, LONG_TEXTS).ok


def test_top5_rankings_agree(onnx_encoder: OnnxEncoder, st_encoder: SentenceTransformerEncoder) -> None:
    catalog_ids = [f"doc{i}" for i in range(len(OVERVIEWS) + len(LONG_TEXTS))]
    catalog = st_encoder.encode([*OVERVIEWS, *LONG_TEXTS])

    def search(query: Vectors) -> Sequence[str]:
        return [catalog_ids[j] for j in np.argsort(-(catalog @ query))]

    report = verify_parity(onnx_encoder, st_encoder, OVERVIEWS, QUERIES, search)
    assert report.top5_checked == len(QUERIES)
    assert report.ok, report


def test_batch_encoding_equals_one_at_a_time(onnx_encoder: OnnxEncoder) -> None:
    batched = onnx_encoder.encode(PARITY_TEXTS, batch_size=8)
    single = np.vstack([onnx_encoder.encode([text]) for text in PARITY_TEXTS])
    np.testing.assert_allclose(batched, single, atol=1e-5)
    assert batched.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-5)


def test_token_budget_and_session_options_do_not_change_vectors(
    onnx_dir: Path, onnx_encoder: OnnxEncoder
) -> None:
    # A budget of 64 tokens splits the texts into many runs of a few rows each (long ones alone).
    small = OnnxEncoder(onnx_dir, max_batch_tokens=64, mem_arena=False, intra_op_threads=1)
    np.testing.assert_allclose(small.encode(PARITY_TEXTS), onnx_encoder.encode(PARITY_TEXTS), atol=1e-5)


def test_texts_packed_into_rows_get_the_vectors_they_get_alone(
    onnx_encoder: OnnxEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = record_runs(monkeypatch, onnx_encoder, "_run_packed")
    # A long overview and short queries: one run, one row, no padding.
    texts = ["space heist", "a dog", "love story", OVERVIEWS[0]]
    vectors = onnx_encoder.encode(texts, batch_size=64)
    assert len(runs) == 1
    alone = np.vstack([onnx_encoder.encode([t]) for t in texts])
    np.testing.assert_allclose(vectors, alone, atol=1e-6)
    # Dozens of queries of different lengths: a few rows, and still each text's own vector.
    queries = [f"{q} {'again ' * (i % 7)}" for i, q in enumerate(QUERIES * 3)][:40]
    np.testing.assert_allclose(
        onnx_encoder.encode(queries), np.vstack([onnx_encoder.encode([q]) for q in queries]), atol=1e-6
    )


def test_packed_runs_keep_to_the_token_budget_and_batch_size(
    onnx_dir: Path, onnx_encoder: OnnxEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    small = OnnxEncoder(onnx_dir, max_batch_tokens=64)
    runs = record_runs(monkeypatch, small, "_run_packed")
    texts = [*QUERIES, *LONG_TEXTS[:2]]
    vectors = small.encode(texts, batch_size=3)
    assert sum(len(run) for run in runs) == len(texts)
    for run in runs:
        assert len(run) <= 3
        assert sum(run) <= 64 or len(run) == 1  # a longer text runs alone
    assert any(len(run) > 1 for run in runs)
    np.testing.assert_allclose(vectors, onnx_encoder.encode(texts), atol=1e-6)


@pytest.mark.parametrize("which", ["onnx", "st"])
def test_empty_input_gives_zero_rows(
    which: str, onnx_encoder: OnnxEncoder, st_encoder: SentenceTransformerEncoder
) -> None:
    encoder = onnx_encoder if which == "onnx" else st_encoder
    out = encoder.encode([])
    assert out.shape == (0, 384)
    assert out.dtype == np.float32


async def test_batcher_on_the_real_model_matches_direct_encoding(onnx_encoder: OnnxEncoder) -> None:
    calls: list[int] = []

    class Counting:
        name, dim = onnx_encoder.name, onnx_encoder.dim

        def encode(self, texts: Sequence[str], batch_size: int = 64) -> Vectors:
            calls.append(len(texts))
            return onnx_encoder.encode(texts, batch_size)

    texts = [f"{q} (variant {i})" for i, q in enumerate(QUERIES * 6)][:64]
    batcher = QueryBatcher(Counting(), max_batch=32)
    try:
        results = await asyncio.gather(*(batcher.encode(t) for t in texts))
    finally:
        await batcher.aclose()
    np.testing.assert_allclose(np.vstack(results), onnx_encoder.encode(texts), atol=1e-5)
    assert len(calls) < len(texts)


def test_loading_and_encoding_with_onnx_never_imports_torch(onnx_dir: Path) -> None:
    code = (
        "from core.embedding.onnx_encoder import OnnxEncoder\n"
        f"vec = OnnxEncoder({str(onnx_dir)!r}).encode(['a space rescue'])\n"
        "assert vec.shape == (1, 384)"
    )
    assert heavy_modules_after(code) == []
