"""Older encoder formats against the current one (4, packed rows), on the real exported model: format 3 (padded
runs, word embeddings read row by row from word_embeddings.f32) and format 2 (the table inside the graph's
memory-mapped weights) give the same vectors; and the word-embedding file is handled robustly."""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from core.embedding.onnx_encoder import (
    BLOCK_MASK_INPUT,
    MANIFEST_FILE,
    MODEL_DATA_FILE,
    MODEL_FILE,
    PAD_BUDGET,
    POSITION_IDS_INPUT,
    TOKENIZER_FILE,
    WORD_EMBEDDINGS_FILE,
    WORD_EMBEDDINGS_INPUT,
    OnnxEncoder,
)
from core.embedding.wordpiece import Encoding
from core.errors import IndexUnavailable
from tests.embedding.runs import record_runs
from tests.embedding.texts import LONG_TEXTS, OVERVIEWS, PARITY_TEXTS, QUERIES

pytestmark = pytest.mark.slow

ROW_BYTES = 384 * 4


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write_manifest(source: Path, out: Path, fmt: int, files: tuple[str, ...]) -> None:
    manifest = json.loads((source / MANIFEST_FILE).read_text())
    sha = {name: _sha256(out / name) for name in files}
    (out / MANIFEST_FILE).write_text(json.dumps({**manifest, "format": fmt, "sha256": sha}))


@pytest.fixture(scope="module")
def format3_dir(onnx_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The format-4 export turned back into a format-3 bundle: attention reads the padding mask again, and
    positions count from each row's start."""
    import onnx
    from onnx import TensorProto, helper

    out = tmp_path_factory.mktemp("format3")
    model = onnx.load(str(onnx_dir / MODEL_FILE), load_external_data=False)
    graph = model.graph
    (embed,) = (node for node in graph.node if node.op_type == "EmbedLayerNormalization")
    for name in (POSITION_IDS_INPUT, BLOCK_MASK_INPUT):
        graph.input.remove(next(i for i in graph.input if i.name == name))
    graph.input.append(helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "sequence"]))
    graph.node.insert(0, helper.make_node("Cast", ["attention_mask"], ["attention_mask_int32"], to=TensorProto.INT32))
    del embed.input[7:]
    embed.input.append("attention_mask_int32")
    for node in graph.node:
        if node.op_type == "Attention":
            node.input[3] = embed.output[1]
    onnx.save_model(model, str(out / MODEL_FILE))
    shutil.copy(onnx_dir / MODEL_DATA_FILE, out / MODEL_DATA_FILE)  # ONNX Runtime refuses data outside the dir
    for name in (TOKENIZER_FILE, WORD_EMBEDDINGS_FILE):
        (out / name).symlink_to(onnx_dir / name)
    _write_manifest(onnx_dir, out, 3, (MODEL_FILE, MODEL_DATA_FILE, WORD_EMBEDDINGS_FILE, TOKENIZER_FILE))
    return out


@pytest.fixture(scope="module")
def format3_encoder(format3_dir: Path) -> OnnxEncoder:
    return OnnxEncoder(format3_dir)


@pytest.fixture(scope="module")
def format2_dir(format3_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The format-3 bundle turned back into a format-2 one: the table is an initializer again, in the data
    file, as older bundles have it."""
    import onnx
    from onnx import numpy_helper

    out = tmp_path_factory.mktemp("format2")
    model = onnx.load(str(format3_dir / MODEL_FILE))
    table = np.fromfile(format3_dir / WORD_EMBEDDINGS_FILE, dtype="<f4").reshape(-1, 384)
    graph = model.graph
    graph.input.remove(next(i for i in graph.input if i.name == WORD_EMBEDDINGS_INPUT))
    graph.initializer.append(numpy_helper.from_array(table, WORD_EMBEDDINGS_INPUT))
    onnx.save_model(
        model, str(out / MODEL_FILE), save_as_external_data=True, all_tensors_to_one_file=True, location=MODEL_DATA_FILE
    )
    shutil.copy(format3_dir / TOKENIZER_FILE, out / TOKENIZER_FILE)
    _write_manifest(format3_dir, out, 2, (MODEL_FILE, MODEL_DATA_FILE, TOKENIZER_FILE))
    return out


@pytest.fixture(scope="module")
def format2_encoder(format2_dir: Path) -> OnnxEncoder:
    return OnnxEncoder(format2_dir)


def _copy_bundle(onnx_dir: Path, tmp_path: Path) -> Path:
    """A private bundle whose word-embedding file a test may damage (the rest are symlinks)."""
    out = tmp_path / "bundle"
    out.mkdir()
    for name in (MODEL_FILE, MODEL_DATA_FILE, TOKENIZER_FILE, MANIFEST_FILE):
        (out / name).symlink_to(onnx_dir / name)
    shutil.copy(onnx_dir / WORD_EMBEDDINGS_FILE, out / WORD_EMBEDDINGS_FILE)
    return out


def test_format3_and_format2_bundles_still_load_and_give_the_same_vectors(
    onnx_encoder: OnnxEncoder, format3_encoder: OnnxEncoder, format2_encoder: OnnxEncoder
) -> None:
    texts = [*PARITY_TEXTS, *QUERIES]
    packed = onnx_encoder.encode(texts)
    padded = format3_encoder.encode(texts)
    np.testing.assert_allclose(packed, padded, atol=1e-6)  # the same math, summed in another order
    np.testing.assert_array_equal(padded, format2_encoder.encode(texts))
    one_by_one = [np.vstack([encoder.encode([t]) for t in QUERIES]) for encoder in (format3_encoder, format2_encoder)]
    np.testing.assert_array_equal(*one_by_one)


def test_ids_at_the_table_edges_read_the_right_rows(
    onnx_encoder: OnnxEncoder, format3_encoder: OnnxEncoder, format2_encoder: OnnxEncoder
) -> None:
    last = onnx_encoder._tokenizer.vocab_size - 1
    assert last == 30521
    cls_id, sep_id = 101, 102
    encodings = [
        Encoding([cls_id, 0, last, 0, sep_id], [1] * 5, [0] * 5),
        Encoding([cls_id, last, sep_id], [1] * 3, [0] * 3),
        Encoding([cls_id, 0, sep_id], [1] * 3, [0] * 3),
    ]
    for batch in (encodings, *([e] for e in encodings)):
        expected = format2_encoder._run(batch)
        np.testing.assert_array_equal(format3_encoder._run(batch), expected)
        np.testing.assert_allclose(onnx_encoder._run_packed(batch), expected, atol=1e-6)


def test_format3_runs_a_long_text_apart_from_short_ones_instead_of_padding_them(
    format3_encoder: OnnxEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = record_runs(monkeypatch, format3_encoder, "_run")
    texts = ["space heist", "a dog", "love story", OVERVIEWS[0]]
    vectors = format3_encoder.encode(texts, batch_size=64)
    assert len(runs) == 2
    assert max(runs[0]) + PAD_BUDGET < runs[1][0]  # the three short ones together, the overview alone
    np.testing.assert_allclose(vectors, np.vstack([format3_encoder.encode([t]) for t in texts]), atol=1e-5)


@pytest.mark.parametrize("damage", ["missing", "truncated mid-row", "truncated by whole rows", "empty"])
def test_a_missing_or_truncated_embeddings_file_is_an_unavailable_index(
    damage: str, onnx_dir: Path, tmp_path: Path
) -> None:
    bundle = _copy_bundle(onnx_dir, tmp_path)
    path = bundle / WORD_EMBEDDINGS_FILE
    size = path.stat().st_size
    if damage == "missing":
        path.unlink()
    else:
        new_size = {"truncated mid-row": size - 100, "truncated by whole rows": size - ROW_BYTES, "empty": 0}[damage]
        with path.open("r+b") as fh:
            fh.truncate(new_size)
    with pytest.raises(IndexUnavailable) as info:
        OnnxEncoder(bundle)
    assert "ingest" in info.value.user_message


def test_an_embeddings_file_damaged_after_loading_is_an_unavailable_index(onnx_dir: Path, tmp_path: Path) -> None:
    bundle = _copy_bundle(onnx_dir, tmp_path)
    encoder = OnnxEncoder(bundle)
    path = bundle / WORD_EMBEDDINGS_FILE
    with path.open("r+b") as fh:
        fh.write(b"\xff" * ROW_BYTES * 200)  # rows 0-199 ([PAD], [CLS] among them) become NaN
    with pytest.raises(IndexUnavailable):
        encoder.encode(["a space rescue"])
    with path.open("r+b") as fh:
        fh.truncate(ROW_BYTES * 1000)  # below most word ids
    with pytest.raises(IndexUnavailable):
        encoder.encode(["an astronaut stranded on mars"])
    encoder.close()


def test_close_and_reopen(onnx_dir: Path, onnx_encoder: OnnxEncoder) -> None:
    encoder = OnnxEncoder(onnx_dir)
    expected = onnx_encoder.encode(QUERIES)
    np.testing.assert_array_equal(encoder.encode(QUERIES), expected)
    encoder.close()
    encoder.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        encoder.encode(QUERIES)
    reopened = OnnxEncoder(onnx_dir)
    np.testing.assert_array_equal(reopened.encode(QUERIES), expected)
    reopened.close()


def test_concurrent_encodes_equal_sequential_ones(onnx_encoder: OnnxEncoder) -> None:
    texts = [*QUERIES, *LONG_TEXTS[:2]]
    expected = onnx_encoder.encode(texts)
    results: list[np.ndarray] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(3):
                results.append(onnx_encoder.encode(texts))
        except BaseException as exc:  # surfaced by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(results) == 12
    for result in results:
        np.testing.assert_array_equal(result, expected)


def test_a_format4_manifest_over_an_older_graph_is_an_unavailable_index(format3_dir: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    for name in (MODEL_FILE, MODEL_DATA_FILE, TOKENIZER_FILE, WORD_EMBEDDINGS_FILE):
        (bundle / name).symlink_to((format3_dir / name).resolve())
    manifest = json.loads((format3_dir / MANIFEST_FILE).read_text())
    (bundle / MANIFEST_FILE).write_text(json.dumps({**manifest, "format": 4}))
    with pytest.raises(IndexUnavailable) as info:
        OnnxEncoder(bundle)
    assert "ingest" in info.value.user_message
