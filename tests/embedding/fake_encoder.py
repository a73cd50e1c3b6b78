"""A deterministic, instrumented TextEncoder for batcher and parity-report tests."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence

import numpy as np

from core.embedding.port import Vectors

DIM = 8


def fake_vector(text: str) -> Vectors:
    raw = np.frombuffer(hashlib.sha256(text.encode()).digest()[: DIM * 4], dtype=np.uint32)
    vec = raw.astype(np.float32) - 2**31
    return (vec / np.linalg.norm(vec)).astype(np.float32)


class FakeEncoder:
    """Records every call and the thread it ran on; can be held at a gate, and fails on a chosen text."""

    name = "fake"
    dim = DIM

    def __init__(self, *, fail_on: str | None = None, gate: threading.Event | None = None) -> None:
        self.calls: list[list[str]] = []
        self.threads: set[int] = set()
        self.started = threading.Event()
        self.fail_on = fail_on
        self.gate = gate

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> Vectors:
        self.calls.append(list(texts))
        self.threads.add(threading.get_ident())
        self.started.set()
        if self.gate is not None:
            assert self.gate.wait(10), "test never opened the gate"
        if self.fail_on is not None and self.fail_on in texts:
            raise ValueError(f"cannot encode {self.fail_on!r}")
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        return np.stack([fake_vector(t) for t in texts])
