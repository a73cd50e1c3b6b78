"""The records a result page shows, as JSON lines read with `os.pread`.

Reading them from the shard's memory-mapped payload storage made every page of it that a query touched (and
the kernel's fault-around neighbours) resident for good, growing with the catalog. A positioned read costs only
the bytes asked for, and is as fast (docs/performance.md).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from core.models import Movie

RECORDS_FILE = "records.jsonl"
OFFSETS_FILE = "records.offsets.npy"


def write_records(directory: Path, payloads: Iterable[dict[str, Any]]) -> None:
    """One JSON line a record, in point-id order, and where each line starts (n + 1 offsets)."""
    offsets = [0]
    with (directory / RECORDS_FILE).open("wb") as out:
        for payload in payloads:
            line = json.dumps(payload, ensure_ascii=False).encode("utf-8") + b"\n"
            out.write(line)
            offsets.append(offsets[-1] + len(line))
    np.save(directory / OFFSETS_FILE, np.asarray(offsets, dtype=np.int64))


class RecordsFile:
    """Reads records by row. Raises ValueError at open when the file does not hold exactly `count` records."""

    def __init__(self, directory: Path, count: int) -> None:
        offsets = np.load(directory / OFFSETS_FILE)
        if offsets.ndim != 1 or len(offsets) != count + 1 or offsets[0] != 0 or np.any(np.diff(offsets) <= 0):
            raise ValueError(f"{OFFSETS_FILE} does not describe {count} records")
        self._fd = os.open(directory / RECORDS_FILE, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        if os.fstat(self._fd).st_size != int(offsets[-1]):
            os.close(self._fd)
            raise ValueError(f"{RECORDS_FILE} is not the size its offsets say")
        self._offsets = offsets

    def read(self, rows: Sequence[int]) -> list[Movie]:
        """The records at `rows`; OSError or ValueError if one is unreadable."""
        movies = []
        for row in rows:
            start, end = int(self._offsets[row]), int(self._offsets[row + 1])
            data = os.pread(self._fd, end - start, start)
            if len(data) != end - start:
                raise ValueError(f"short read of record {row}")
            movies.append(Movie.from_payload(json.loads(data)))
        return movies

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
