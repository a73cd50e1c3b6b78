"""Deterministic TextEncoders without a model: an instrumented one for batcher and service-thread tests, and a
bag-of-words one whose cosines follow shared words, for search tests that need meaning to matter."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from functools import cache

import numpy as np

from core.embedding.port import Vectors
from core.text_fold import fold_words

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


class BagOfWordsEncoder:
    """Each folded word is a fixed random direction and a text the normalised sum of its words: texts that share
    words have high cosines, unrelated ones near zero. Meaning enough for search tests, no model needed."""

    name = "bag-of-words"
    dim = 512

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> Vectors:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in fold_words(text):
                if len(word) > 2:  # "a", "of", "in": too common to mean anything
                    out[row] += _word_vector(word)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, norms, out=out, where=norms > 0)
        return out


@cache
def _word_vector(word: str) -> Vectors:
    seed = int.from_bytes(hashlib.sha256(word.encode()).digest()[:8], "little")
    vec = np.random.default_rng(seed).normal(size=BagOfWordsEncoder.dim).astype(np.float32)
    return vec / np.linalg.norm(vec)
