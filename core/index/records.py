"""The records a result page shows, as JSON lines read with `os.pread`.

Reading them from the shard's memory-mapped payload storage made every page of it that a query touched (and
the kernel's fault-around neighbours) resident for good, growing with the catalog. A positioned read costs only
the bytes asked for, and is as fast (docs/performance.md).
"""

from __future__ import annotations

import json
import os
from array import array
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from core.models import Movie

RECORDS_FILE = "records.jsonl"
OFFSETS_FILE = "records.offsets.npy"


class RecordsWriter:
    """Appends records as they come, so a builder holds only their offsets (8 bytes a record), not the records:
    one JSON line a record, in point-id order; `close` writes where each line starts (n + 1 offsets)."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._out = (directory / RECORDS_FILE).open("wb")
        self._offsets = array("q", [0])

    def append(self, payload: dict[str, Any]) -> None:
        line = json.dumps(payload, ensure_ascii=False).encode("utf-8") + b"\n"
        self._out.write(line)
        self._offsets.append(self._offsets[-1] + len(line))

    def close(self) -> None:
        """Finish both files; closing again does nothing."""
        if self._out.closed:
            return
        self._out.close()
        np.save(self._directory / OFFSETS_FILE, np.frombuffer(self._offsets, dtype=np.int64))

    def discard(self) -> None:
        """Close without finishing (an aborted build removes the directory)."""
        self._out.close()


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
