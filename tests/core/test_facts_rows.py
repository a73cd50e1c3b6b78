"""Reading the ranking-facts table row by row gives what decoding it whole gives, and refuses what is not one."""

from __future__ import annotations

import json

import pytest

from core.index.edge import facts_rows

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
