"""Ingest says where its time went, and its embedding loop (chunked for the progress bar) keeps the row order."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from core.embedding.port import Vectors
from core.ingest import BUILDING, EMBED_CHUNK, EMBEDDING, EXPORT, READING, IngestReport, embed


class LengthEncoder:
    """A fake model: a text's vector holds its length, so a shuffled row shows."""

    name, dim = "fake", 2

    def __init__(self) -> None:
        self.calls: list[int] = []

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> Vectors:
        self.calls.append(len(texts))
        return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)


def test_embedding_in_chunks_keeps_each_text_on_its_row(capsys: pytest.CaptureFixture[str]) -> None:
    texts = ["x" * ((i * 37) % 101 + 1) for i in range(EMBED_CHUNK * 2 + 5)]
    encoder = LengthEncoder()
    vectors = embed(encoder, texts, progress=True)
    assert vectors[:, 0].tolist() == [float(len(t)) for t in texts]
    assert encoder.calls == [EMBED_CHUNK, EMBED_CHUNK, 5]
    err = capsys.readouterr().err
    assert "embedding" in err and f"{len(texts)}/{len(texts)}" in err


def test_no_progress_bar_when_not_asked(capsys: pytest.CaptureFixture[str]) -> None:
    embed(LengthEncoder(), ["a", "bb"], progress=False)
    assert capsys.readouterr().err == ""


@pytest.mark.slow
def test_the_report_says_where_the_time_went(built: tuple[Path, IngestReport]) -> None:
    _, report = built
    assert list(report.stages) == [READING, EMBEDDING, EXPORT, BUILDING]
    assert all(seconds >= 0 for seconds in report.stages.values())
    assert sum(report.stages.values()) <= report.took_s
    line = report.lines()[-1]
    assert line.startswith("where the time went: reading and cleaning") and "building the shard" in line
    assert line.count("%") == 4
