"""The model-floor script's arithmetic, on a small hand-made graph and on the real exported model."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from core.embedding.onnx_encoder import MODEL_FILE, OnnxEncoder
from core.embedding.port import Vectors
from core.index.bundle import ENCODER_DIR, BundleStore
from core.ingest import IngestReport
from scripts.bench.model_floor import (
    alternating_encode_ms,
    cosines,
    fit_line,
    flops_per_token,
    quantized_copy,
)


def test_fit_line_recovers_slope_and_intercept() -> None:
    slope, intercept = fit_line([8, 12, 18, 24], [1.2 + 0.1 * x for x in (8, 12, 18, 24)])
    assert slope == pytest.approx(0.1)
    assert intercept == pytest.approx(1.2)
    with pytest.raises(ValueError):
        fit_line([5, 5], [1.0, 2.0])


def test_flops_count_every_weight_matrix_once(tmp_path: Path) -> None:
    weight = helper.make_tensor("w", TensorProto.FLOAT, [4, 8], np.zeros(32, dtype=np.float32))
    position_table = helper.make_tensor("table", TensorProto.FLOAT, [16, 4], np.zeros(64, dtype=np.float32))
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["y"]),
        helper.make_node("MatMul", ["x", "y_t"], ["z"]),  # two activations: no weight, no count
        helper.make_node("Gather", ["table", "ids"], ["g"]),  # a lookup, not arithmetic
        helper.make_node("MatMulNBits", ["y", "qw", "scales"], ["q"], domain="com.microsoft", K=8, N=16,
                         bits=8, block_size=16),
    ]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("q", TensorProto.FLOAT, [1, 16])],
                              initializer=[weight, position_table])
    path = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph), str(path))
    assert flops_per_token(path) == 2 * (4 * 8 + 8 * 16)


def test_cosines_are_row_by_row() -> None:
    a = np.array([[1.0, 0.0], [1.0, 1.0]])
    b = np.array([[2.0, 0.0], [-1.0, -1.0]])
    assert cosines(a, b).tolist() == pytest.approx([1.0, -1.0])


class Counting:
    def __init__(self, name: str, log: list[tuple[str, str]]) -> None:
        self.name, self.dim, self.log = name, 2, log

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> Vectors:
        self.log.extend((self.name, t) for t in texts)
        return np.zeros((len(texts), 2), dtype=np.float32)


def test_encodes_alternate_query_by_query() -> None:
    log: list[tuple[str, str]] = []
    alternating_encode_ms(Counting("a", log), Counting("b", log), ["q1", "q2"])
    assert log == [("a", "q1"), ("b", "q1"), ("a", "q2"), ("b", "q2")]


@pytest.mark.slow
def test_real_model_flops_and_int8_copy(built: tuple[Path, IngestReport], tmp_path: Path) -> None:
    root, _ = built
    encoder_dir = BundleStore(root / "index").require_live() / ENCODER_DIR
    # all-MiniLM-L6-v2: 6 layers of 384 -> 1152 (QKV), 384 -> 384, 384 -> 1536 and 1536 -> 384 per token.
    assert flops_per_token(encoder_dir / MODEL_FILE) == 2 * 6 * (384 * 1152 + 384 * 384 + 2 * 384 * 1536)
    copy = quantized_copy(encoder_dir, 32, tmp_path / "int8")
    ops = {n.op_type for n in onnx.load(str(copy / MODEL_FILE), load_external_data=False).graph.node}
    assert "MatMulNBits" in ops and "MatMul" not in ops
    texts = ["NASA tries to rescue an astronaut stranded on Mars", "a heist that goes wrong"]
    fp32, int8 = OnnxEncoder(encoder_dir), OnnxEncoder(copy)
    try:
        values = cosines(int8.encode(texts), fp32.encode(texts))
    finally:
        fp32.close()
        int8.close()
    # Close to the float32 vectors, but not equal: the copy really computes in int8.
    assert values.min() > 0.999 and values.max() < 1 - 1e-6
