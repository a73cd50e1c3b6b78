"""The ranking-facts table of an embedded bundle (`facts.json`): one row a line, each row made into `MovieFacts`
the first time a search needs it.

Making every movie's facts at open was the largest part of a fresh process's start (docs/performance.md, "Start:
the ranking facts made when first needed"). Opening now only finds where each row starts and which film it is;
a search makes the rows of its candidates, and the warm-up after the first answer (`catalog_facts`, for the
speller and the title index) makes the rest and lets the file's text go. A file laid out otherwise (bundles
written before rows had a line each) is decoded whole at open, as before.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from core.domain import MovieFacts
from core.errors import IndexUnavailable

logger = logging.getLogger(__name__)

FACTS_FILE = "facts.json"
# {"rows": [[imdb_id, year, votes, title words, names, genres],\n...]}; a point's id is its row.
FACTS_HEAD = '{"rows": ['
FACTS_TAIL = "]}"
ROW_SEPARATOR = ",\n"
# A row's film, read without decoding the row: JSON escapes every newline inside a string, so each row but the
# first starts right after a newline. An id with characters JSON escapes does not match, and the file is then
# decoded whole.
_FIRST_ROW_ID = re.compile(rb'\["([^"\\\n]*)", ')
_NEXT_ROW_ID = re.compile(rb'\n\["([^"\\\n]*)", ')


def damaged(what: str) -> IndexUnavailable:
    return IndexUnavailable(f"The movie index is incomplete ({what}); rebuild it with `movie-bot ingest`.")


class FactsTable:
    """Every movie's ranking facts by row, made from the file when first asked for; safe to use from several
    threads (two threads making the same row make equal facts)."""

    def __init__(self, made: list[MovieFacts | None], lines: _Lines | None) -> None:
        self._count = len(made)
        self._made = made
        # The file's rows and which film each is, until every row is made.
        self._lines = lines
        self._complete: list[MovieFacts] | None = None if lines is not None else [f for f in made if f is not None]
        ids = lines.ids if lines is not None else [f.imdb_id for f in self._complete or ()]
        self.rows_by_id = {imdb_id: row for row, imdb_id in enumerate(ids)}
        self._lock = threading.Lock()

    @classmethod
    def read(cls, path: Path, count: int) -> FactsTable:
        """The table of a bundle whose shard holds `count` points; IndexUnavailable when the file is missing, is
        not a facts table or holds another number of rows."""
        try:
            data = path.read_bytes()
            table = cls._by_line(data, count) or cls._decoded(data.decode("utf-8"))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            logger.error("cannot read the ranking facts %s: %s", path, exc)
            raise damaged(f"{FACTS_FILE} is missing or unreadable") from exc
        if len(table) != count:
            logger.error("%s holds %d movies, the shard %d", path, len(table), count)
            raise damaged(f"{FACTS_FILE} does not match the index")
        return table

    @classmethod
    def _by_line(cls, data: bytes, count: int) -> FactsTable | None:
        """The table without making any row, or None when `data` is not one row a line of `count` rows."""
        head, tail = FACTS_HEAD.encode(), FACTS_TAIL.encode()
        if not (data.startswith(head) and data.endswith(tail)):
            return None
        body = data[len(head) : -len(tail)]
        first = _FIRST_ROW_ID.match(body)
        if first is None or count == 0:
            return None
        ids = [first.group(1), *_NEXT_ROW_ID.findall(body)]
        raw = np.frombuffer(body, np.uint8)
        newlines = np.flatnonzero(raw == ord("\n"))
        if len(ids) != count or len(newlines) != count - 1 or not np.all(raw[newlines - 1] == ord(",")):
            return None
        starts = np.concatenate(([0], newlines + 1))
        return cls([None] * count, _Lines(body, starts, [i.decode("utf-8") for i in ids]))

    @classmethod
    def _decoded(cls, text: str) -> FactsTable:
        made: list[MovieFacts | None] = [MovieFacts.of(*row) for row in facts_rows(text)]
        return cls(made, None)

    def __len__(self) -> int:
        return self._count

    def pick(self, rows: Iterable[int]) -> list[MovieFacts]:
        """The facts at `rows`, made where not made yet; IndexUnavailable if a row is damaged."""
        made = self._made  # before the lines: `all` lets the lines go first
        lines = self._lines
        if lines is None:
            complete = self._complete
            assert complete is not None  # set before the lines are let go
            return [complete[row] for row in rows]
        out = []
        for row in rows:
            facts = made[row]
            if facts is None:
                facts = made[row] = _make(lines, row)
            out.append(facts)
        return out

    def all(self) -> list[MovieFacts]:
        """Every movie's facts, in row order; the first call makes those not made yet and lets the text go.
        IndexUnavailable if a row is damaged."""
        with self._lock:
            if self._complete is None:
                self._complete = self.pick(range(self._count))
                self._lines = None
                self._made = []
            return self._complete


class _Lines(NamedTuple):
    body: bytes  # the rows, one a line, as UTF-8: as a str, one non-Latin name doubles or quadruples its size
    starts: NDArray[np.int64]  # where each row starts in `body`
    ids: list[str]  # each row's film


def _make(lines: _Lines, row: int) -> MovieFacts:
    body, starts, ids = lines
    start = int(starts[row])
    end = int(starts[row + 1]) - len(ROW_SEPARATOR) if row + 1 < len(starts) else len(body)
    try:
        values = json.loads(body[start:end])
        if not isinstance(values, list) or not values or values[0] != ids[row]:
            raise ValueError("a facts row is not a list starting with its film's id")
        values[0] = ids[row]  # one string for the id, shared with `rows_by_id`
        return MovieFacts.of(*values)
    except (ValueError, TypeError) as exc:
        logger.error("the ranking facts of row %d are damaged: %s", row, exc)
        raise damaged(f"{FACTS_FILE} is damaged") from exc


def facts_rows(text: str) -> Iterator[list[Any]]:
    """The rows of a facts file one at a time, so that opening never holds every decoded row beside the facts
    made of them (with a large catalog, the rows took more memory than the facts, and stayed in the heap after
    use: docs/performance.md). A file laid out otherwise than the builder writes it is decoded whole. ValueError
    when it is not a facts table."""
    if not text.startswith(FACTS_HEAD):
        rows: list[list[Any]] = json.loads(text)["rows"]
        yield from rows
        return
    decode = json.JSONDecoder().raw_decode
    pos = _skip_space(text, len(FACTS_HEAD))
    if text.startswith("]", pos):
        pos += 1
    else:
        while True:
            row, pos = decode(text, pos)
            if not isinstance(row, list):
                raise ValueError(f"a facts row is not a list at {pos}")
            yield row
            pos = _skip_space(text, pos)
            if text.startswith("]", pos):
                pos += 1
                break
            if not text.startswith(",", pos):
                raise ValueError(f"a facts row is followed by neither ',' nor ']' at {pos}")
            pos = _skip_space(text, pos + 1)
    if text[pos:].strip() != "}":
        raise ValueError("unexpected data after the facts rows")


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\n\r":
        pos += 1
    return pos
