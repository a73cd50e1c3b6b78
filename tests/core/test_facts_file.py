"""The ranking-facts table: rows made when a search first needs them give what decoding the file whole gives; a
file laid out otherwise is still read; what is not a facts table, or not this shard's, is refused."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from core.domain import MovieFacts
from core.errors import IndexUnavailable
from core.index.facts_file import FACTS_FILE, FACTS_HEAD, FACTS_TAIL, ROW_SEPARATOR, FactsTable, facts_rows

ROWS = [["tt0816692", 2014, 6498, ["interstellar"], ["christopher nolan", "matthew mcconaughey"], 3],
        ["tt0900387", None, 7, ["suite", "francaise"], [], 0]]


@pytest.mark.parametrize("text", [
    json.dumps({"rows": ROWS}, ensure_ascii=False),
    json.dumps({"rows": ROWS}, indent=1),
    '{"rows": [ ' + " ,\n".join(json.dumps(r) for r in ROWS) + " ] }\n",
    json.dumps({"rows": ROWS}, separators=(",", ":")),
])
def test_rows_read_one_by_one_are_the_rows_decoded_whole(text: str) -> None:
    assert list(facts_rows(text)) == json.loads(text)["rows"] == ROWS


def test_an_empty_table_has_no_rows() -> None:
    assert list(facts_rows('{"rows": []}')) == []


@pytest.mark.parametrize("text", [
    '{"rows": [["tt1"], ["tt2"]',  # cut short
    '{"rows": [["tt1"] ["tt2"]]}',  # a comma missing
    '{"rows": [["tt1"]]} and more',
    '{"rows": ["tt1"]}',  # a row that is not a list
    '{"rows": [',
    "{not json",
])
def test_what_is_not_a_facts_table_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        list(facts_rows(text))


def written(path: Path, rows: list[list[Any]]) -> Path:
    """A facts file as the bundle builder writes it: one row a line."""
    path.write_text(FACTS_HEAD + ROW_SEPARATOR.join(json.dumps(r, ensure_ascii=False) for r in rows) + FACTS_TAIL,
                    encoding="utf-8")
    return path


MANY: list[list[Any]] = [[f"tt{i:07d}", 1990 + i % 30, i * 7, ["film", str(i)], ["jo ann kim", "张 艺谋"], i % 5]
                         for i in range(50)]


def test_a_table_read_row_by_row_when_needed_holds_what_decoding_it_whole_gives(tmp_path: Path) -> None:
    table = FactsTable.read(written(tmp_path / FACTS_FILE, MANY), len(MANY))
    whole = [MovieFacts.of(*row) for row in MANY]
    assert table.pick([7, 3, 7]) == [whole[7], whole[3], whole[7]]
    assert table.all() == whole
    assert table.pick([49, 0]) == [whole[49], whole[0]]
    assert table.rows_by_id == {f.imdb_id: row for row, f in enumerate(whole)}


@pytest.mark.parametrize("layout", ["one line", "an id JSON escapes"])
def test_a_table_laid_out_otherwise_is_decoded_whole_at_open(tmp_path: Path, layout: str) -> None:
    rows = [list(r) for r in MANY]
    if layout == "one line":
        (tmp_path / FACTS_FILE).write_text(json.dumps({"rows": rows}, ensure_ascii=False), encoding="utf-8")
    else:
        rows[4][0] = 'tt"quoted\\'
        written(tmp_path / FACTS_FILE, rows)
    table = FactsTable.read(tmp_path / FACTS_FILE, len(rows))
    assert table.all() == [MovieFacts.of(*row) for row in rows]
    assert table.rows_by_id['tt"quoted\\' if layout != "one line" else "tt0000004"] == 4


def test_a_damaged_row_is_reported_when_a_search_first_needs_it_and_the_others_still_serve(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = written(tmp_path / FACTS_FILE, MANY)
    lines = path.read_text(encoding="utf-8").split(ROW_SEPARATOR)
    lines[10] = lines[10].replace("]", "}", 1)  # still its own line, with the film's id first
    path.write_text(ROW_SEPARATOR.join(lines), encoding="utf-8")
    table = FactsTable.read(path, len(MANY))  # opening does not decode the rows
    assert [f.imdb_id for f in table.pick([9, 11])] == ["tt0000009", "tt0000011"]
    with pytest.raises(IndexUnavailable, match="movie-bot ingest"):
        table.pick([10])
    with pytest.raises(IndexUnavailable, match="movie-bot ingest"):
        table.all()
    assert "row 10" in caplog.text


@pytest.mark.parametrize("count", [49, 51])
def test_a_table_of_another_size_than_the_shard_is_refused_at_open(tmp_path: Path, count: int) -> None:
    with pytest.raises(IndexUnavailable, match="does not match"):
        FactsTable.read(written(tmp_path / FACTS_FILE, MANY), count)


def test_threads_making_rows_while_another_makes_them_all_get_the_same_facts(tmp_path: Path) -> None:
    rows: list[list[Any]] = [[f"tt{i:07d}", 2000, i, ["film", str(i)], ["jo ann kim"], 0] for i in range(3000)]
    table = FactsTable.read(written(tmp_path / FACTS_FILE, rows), len(rows))
    whole = [MovieFacts.of(*row) for row in rows]
    picked: list[tuple[int, list[MovieFacts]]] = []

    def search() -> None:
        for start in range(0, len(rows), 37):
            picked.append((start, table.pick(range(start, min(start + 5, len(rows))))))

    threads = [threading.Thread(target=search) for _ in range(3)] + [threading.Thread(target=table.all)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert table.all() == whole
    assert len(picked) == 3 * len(range(0, len(rows), 37))
    assert all(got == whole[start : start + 5] for start, got in picked)
