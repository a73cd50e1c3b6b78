"""How much of a lone search is the model run, and how close that run is to this machine's arithmetic limit.

    python -m scripts.bench.model_floor [--queries 600] [--int8]

Why: the performance issue asks for a median search of 5 ms or less. Most of a search is one float32 run of
the model, whose cost is set by its arithmetic, not by our code; this shows how much, so that the rest of
the budget is known. Everything is measured in this one process, so the VM's drift hits every figure alike:

- lone searches through SearchService.search (as the bots call it), each followed or preceded by a lone
  encode of the same query: the median of each, and what is left for everything else;
- encode time against the query's tokens: the least-squares cost per token and per run;
- the per-token cost as arithmetic: the FLOPs a token needs (two per weight of the graph's matrices) over
  its time, beside this machine's practical float32 peak (numpy's SGEMM on 2048 x 2048, all cores);
- with --int8: block-quantized copies of the graph (ONNX Runtime's MatMulNBits: 8-bit weights in blocks of
  16 or 32, int8 arithmetic), how fast they encode, and their cosine to the float32 vectors on the queries
  and on catalog overviews, against the parity ingest requires (0.9999). Needs the `onnx-ir` package.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.bootstrap import build_search_service
from core.embedding.onnx_encoder import (
    MODEL_DATA_FILE,
    MODEL_FILE,
    TOKENIZER_FILE,
    EncoderManifest,
    OnnxEncoder,
)
from core.embedding.onnx_export import MIN_PARITY_COSINE
from core.embedding.port import TextEncoder
from core.embedding.wordpiece import WordPieceTokenizer
from core.index.bundle import ENCODER_DIR, BundleStore
from core.search_service import SearchService
from core.settings import load_settings
from scripts.bench.queries import WARMUP_QUERY
from scripts.bench.runner import prepare_workload

INT8_BLOCKS = (32, 16)
PARITY_OVERVIEWS = 400
# The graph's nodes that multiply by a weight matrix, their second input (K x N, or N x K for a transposed Gemm).
_WEIGHT_OPS = frozenset({"MatMul", "Gemm", "Attention"})


@dataclass(frozen=True, slots=True)
class LoneTimes:
    """Per query: its tokens, a lone search and a lone encode of it (ms)."""

    tokens: list[int]
    search_ms: list[float]
    encode_ms: list[float]


def fit_line(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float]:
    """Least-squares slope and intercept of ys against xs."""
    if len(set(xs)) < 2:
        raise ValueError("a line needs at least two distinct x values")
    slope, intercept = np.polyfit(np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64), 1)
    return float(slope), float(intercept)


def flops_per_token(model_path: Path) -> int:
    """Two FLOPs (a multiply and an add) per weight of every matrix a token is multiplied by.

    Attention's own score arithmetic grows with the text's length and is left out: at query lengths it is
    under 1% of the matrix work.
    """
    import onnx

    graph = onnx.load(str(model_path), load_external_data=False).graph
    shapes = {init.name: tuple(init.dims) for init in graph.initializer}
    total = 0
    for node in graph.node:
        if node.op_type == "MatMulNBits":
            attrs = {a.name: a.i for a in node.attribute}
            total += 2 * attrs["K"] * attrs["N"]
        elif node.op_type in _WEIGHT_OPS and len(node.input) > 1:
            shape = shapes.get(node.input[1])
            if shape is not None and len(shape) == 2:
                total += 2 * shape[0] * shape[1]
    return total


def fp32_peak_gflops(size: int = 2048, repeats: int = 5) -> float:
    """numpy's float32 matrix product of two size x size matrices, best of `repeats`, on every core BLAS uses."""
    rng = np.random.default_rng(0)
    a, b = (rng.random((size, size), dtype=np.float32) for _ in range(2))
    a @ b  # BLAS threads start and buffers are allocated once
    best = min(_timed(lambda: a @ b) for _ in range(repeats))
    return 2 * size**3 / best / 1e9


def _timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


async def lone_times(service: SearchService, encoder: TextEncoder, tokenizer: WordPieceTokenizer,
                     queries: Sequence[str]) -> LoneTimes:
    """Each query searched and encoded once, alone; which goes first swaps from query to query.

    The encode runs on this script's loop on purpose: it is the encoder alone, without the hand-offs to and
    from the batcher's thread that a search makes.
    """
    tokens = [len(e.ids) for e in tokenizer.encode_batch(list(queries))]
    search_ms: list[float] = []
    encode_ms: list[float] = []
    for k, query in enumerate(queries):
        for step in ((0, 1) if k % 2 else (1, 0)):
            started = time.perf_counter()
            if step == 0:
                await service.search(query)
                search_ms.append((time.perf_counter() - started) * 1000)
            else:
                encoder.encode([query])
                encode_ms.append((time.perf_counter() - started) * 1000)
    return LoneTimes(tokens, search_ms, encode_ms)


def quantized_copy(encoder_dir: Path, block: int, destination: Path) -> Path:
    """A copy of the bundle's encoder whose MatMuls are MatMulNBits: 8-bit weights in blocks, int8 arithmetic."""
    import onnx
    from onnxruntime.quantization.matmul_nbits_quantizer import (
        DefaultWeightOnlyQuantConfig,
        MatMulNBitsQuantizer,
    )

    logging.getLogger("onnxruntime.quantization").setLevel(logging.WARNING)  # a line per node otherwise
    shutil.copytree(encoder_dir, destination, ignore=shutil.ignore_patterns(MODEL_FILE, MODEL_DATA_FILE))
    config = DefaultWeightOnlyQuantConfig(block_size=block, is_symmetric=True, accuracy_level=4, bits=8)
    quantizer = MatMulNBitsQuantizer(onnx.load(str(encoder_dir / MODEL_FILE)), algo_config=config)
    quantizer.process()
    onnx.save_model(quantizer.model.model, str(destination / MODEL_FILE), save_as_external_data=True,
                    location=MODEL_DATA_FILE)
    return destination


def cosines(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Row-wise cosine of two stacks of vectors."""
    norms = np.linalg.norm(first, axis=1) * np.linalg.norm(second, axis=1)
    values: np.ndarray = (first * second).sum(axis=1) / np.clip(norms, 1e-12, None)
    return values


def alternating_encode_ms(first: TextEncoder, second: TextEncoder, queries: Sequence[str]) -> tuple[float, float]:
    """Median ms of a lone encode on each, query by query in turn, so drift hits both alike."""
    times: tuple[list[float], list[float]] = ([], [])
    for query in queries:
        for which, encoder in enumerate((first, second)):
            started = time.perf_counter()
            encoder.encode([query])
            times[which].append((time.perf_counter() - started) * 1000)
    return statistics.median(times[0]), statistics.median(times[1])


def _int8_lines(encoder_dir: Path, fp32: OnnxEncoder, queries: Sequence[str], overviews: Sequence[str]) -> list[str]:
    try:
        import onnx_ir  # noqa: F401  (ONNX Runtime's quantizer imports it)
    except ImportError:
        return ["--int8 needs the onnx-ir package (pip install onnx-ir)"]
    lines = [f"int8 copies (MatMulNBits, 8-bit weights, int8 arithmetic) against float32, gate {MIN_PARITY_COSINE}:"]
    reference = {"queries": fp32.encode(list(queries)), "overviews": fp32.encode(list(overviews))}
    with tempfile.TemporaryDirectory(prefix="movie-bot-int8-") as tmp:
        for block in INT8_BLOCKS:
            quantized = OnnxEncoder(quantized_copy(encoder_dir, block, Path(tmp) / f"block{block}"))
            try:
                median, baseline = alternating_encode_ms(quantized, fp32, queries)
                found = {name: cosines(quantized.encode(list(texts)), reference[name])
                         for name, texts in (("queries", queries), ("overviews", overviews))}
            finally:
                quantized.close()
            worst = min(float(values.min()) for values in found.values())
            parts = "; ".join(f"{name} min {v.min():.5f} mean {v.mean():.5f}" for name, v in found.items())
            lines.append(f"  blocks of {block}: encode {median:.2f} ms against {baseline:.2f} "
                         f"({(median / baseline - 1) * 100:+.0f}%); cosine {parts} -> "
                         f"{'passes' if worst >= MIN_PARITY_COSINE else 'fails'} the gate")
    return lines


async def _run(queries: int, int8: bool) -> str:
    settings = load_settings()
    with tempfile.TemporaryDirectory(prefix="movie-bot-floor-") as tmp:
        work = prepare_workload(settings, queries, Path(tmp))
    encoder_dir = BundleStore(settings.index_path).require_live() / ENCODER_DIR
    manifest = EncoderManifest.read(encoder_dir)
    tokenizer = WordPieceTokenizer.from_file(encoder_dir / TOKENIZER_FILE, max_length=manifest.max_seq_length)
    service = build_search_service(settings)
    try:
        await service.search(WARMUP_QUERY)
        if not isinstance(service.encoder, OnnxEncoder):
            return "the live bundle is served by a non-ONNX encoder (QUERY_ENCODER): nothing to measure here"
        encoder = service.encoder
        lone = await lone_times(service, encoder, tokenizer, work.latency_queries)
        peak = fp32_peak_gflops()
        flops = flops_per_token(encoder_dir / MODEL_FILE)
        per_token, per_run = fit_line(lone.tokens, lone.encode_ms)
        search, encode = statistics.median(lone.search_ms), statistics.median(lone.encode_ms)
        rate = flops / (per_token / 1000) / 1e9
        lines = [
            f"{len(lone.tokens)} lone queries (median {statistics.median(lone.tokens):.0f} tokens), "
            f"{encoder.threads} model threads:",
            f"  search (SearchService.search)  median {search:.2f} ms",
            f"  encode alone (tokens to vector) median {encode:.2f} ms  ({encode / search * 100:.0f}% of a search)",
            f"  the rest (index, ranking, thread hand-offs): {search - encode:.2f} ms",
            f"encode time by tokens: {per_token:.3f} ms a token + {per_run:.2f} ms a run",
            f"  {flops / 1e6:.1f} MFLOP a token -> {rate:.0f} GFLOP/s; this machine's float32 peak (numpy SGEMM, "
            f"all cores): {peak:.0f} GFLOP/s, so the model runs at {rate / peak * 100:.0f}% of it per token",
        ]
        if int8:
            overviews = [e.overview for e in work.entries if e.overview]
            sample = overviews[:: max(1, len(overviews) // PARITY_OVERVIEWS)][:PARITY_OVERVIEWS]
            lines += _int8_lines(encoder_dir, encoder, work.latency_queries, sample)
        return "\n".join(lines)
    finally:
        await service.aclose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.bench.model_floor", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--queries", type=int, default=600, help="the benchmark's latency queries to use")
    parser.add_argument("--int8", action="store_true", help="also measure block-quantized copies of the model")
    args = parser.parse_args(argv)
    sys.stdout.write(asyncio.run(_run(args.queries, args.int8)) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
