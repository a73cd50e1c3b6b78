"""Saved paging state: short callback data, a bounded LRU, and rejection of anything a client could forge."""

from __future__ import annotations

import pytest

from bot.telegram.buttons import CALLBACK_DATA_LIMIT, PageStore, SavedPage, decode_press, encode_press
from core.query_text import MAX_QUERY_CHARS, MAX_RESULTS


def test_a_long_query_travels_as_a_short_key() -> None:
    store = PageStore()
    query = "ü" * MAX_QUERY_CHARS
    key = store.put(query, chat_id=1)
    data = encode_press(SavedPage(key, MAX_RESULTS - 5))
    assert data is not None and len(data.encode()) <= CALLBACK_DATA_LIMIT
    assert decode_press(data) == SavedPage(key, MAX_RESULTS - 5)
    saved = store.get(key, chat_id=1)
    assert saved is not None and saved.query == query


def test_keys_are_bound_to_their_chat() -> None:
    store = PageStore()
    key = store.put("mars", chat_id=1)
    assert store.get(key, chat_id=2) is None
    assert store.get(key, chat_id=1) is not None


def test_the_store_forgets_the_least_recently_used_query() -> None:
    store = PageStore(capacity=2)
    first, second = store.put("a", 1), store.put("b", 1)
    assert store.get(first, 1) is not None  # first is now the most recent
    third = store.put("c", 1)
    assert len(store) == 2
    assert store.get(second, 1) is None
    assert store.get(first, 1) is not None and store.get(third, 1) is not None


def test_keys_differ() -> None:
    store = PageStore()
    assert len({store.put("same", 1) for _ in range(200)}) == 200


@pytest.mark.parametrize(
    "data",
    [None, "", "more", "more:abcdefgh", "more:abcdefgh:", "more:abcdefg:5", "more:abcdefghi:5",
     "more:abcdefgh:50", "more:abcdefgh:-1", "more:abcdefgh:١", "more:abc/efgh:5", "more:abcdefgh:5 ",
     "MORE:abcdefgh:5", "more:abcdefgh:0005"],
)
def test_malformed_or_out_of_range_data_is_rejected(data: str | None) -> None:
    assert decode_press(data) is None


@pytest.mark.parametrize("press", [SavedPage("abcdefgh", MAX_RESULTS), SavedPage("abcdefgh", -1),
                                   SavedPage("abc/efgh", 5), SavedPage("abcdefghi", 5)])
def test_encode_refuses_what_decode_would_reject(press: SavedPage) -> None:
    assert encode_press(press) is None
