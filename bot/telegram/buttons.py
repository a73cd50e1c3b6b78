"""The buttons under a result list: what their callback data says, and the keyboard that offers them.

Most carry all they need in their own data, so they survive a restart:

- `l:<imdb id>`: "more like this result", answered with a new message;
- `s:<imdb id>:<offset>`: another page of films like that one, edited in place;
- `q:<offset>:<query>`: another page of a description search, when the query fits in the 64 bytes.

A longer query cannot: `more:<key>:<offset>` names it in `PageStore`, a bounded LRU in memory, so a restart
or a busy day turns old buttons into a polite "expired" answer rather than a wrong search.

Anything a client sends is parsed strictly: `decode_press` returns None for what the bot would never send.
"""

from __future__ import annotations

import re
import secrets
from collections import OrderedDict
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from core.models import SearchResults
from core.query_text import MAX_RESULTS

CALLBACK_DATA_LIMIT = 64
LIKE_LABEL = "Like #{rank}"
MORE_LABEL = "More results ▶"
BACK_LABEL = "◀ Back"
LIKE_BUTTONS_PER_ROW = 5

_IMDB = r"tt[0-9]{5,12}"
_OFFSET = r"0|[1-9][0-9]?"
_LIKE = re.compile(rf"l:({_IMDB})")
_SIMILAR_PAGE = re.compile(rf"s:({_IMDB}):({_OFFSET})")
_QUERY_PAGE = re.compile(rf"q:({_OFFSET}):(\S(?:.*\S)?)", re.DOTALL)
_SAVED_PAGE = re.compile(r"more:([A-Za-z0-9_-]{8}):([0-9]{1,3})")
_KEY_BYTES = 6  # 8 URL-safe characters: unguessable enough, and short


@dataclass(frozen=True, slots=True)
class SavedQuery:
    """A query behind a button, bound to the chat it was asked in so a key is useless elsewhere."""

    query: str
    chat_id: int


class PageStore:
    """Bounded LRU of recent queries keyed by a short random key."""

    def __init__(self, capacity: int = 1000) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._capacity = capacity
        self._saved: OrderedDict[str, SavedQuery] = OrderedDict()

    def __len__(self) -> int:
        return len(self._saved)

    def put(self, query: str, chat_id: int) -> str:
        key = secrets.token_urlsafe(_KEY_BYTES)
        while key in self._saved:  # astronomically rare, but a clash would page the wrong query
            key = secrets.token_urlsafe(_KEY_BYTES)
        self._saved[key] = SavedQuery(query, chat_id)
        if len(self._saved) > self._capacity:
            self._saved.popitem(last=False)
        return key

    def get(self, key: str, chat_id: int) -> SavedQuery | None:
        """The saved query, or None when it expired or belongs to another chat."""
        saved = self._saved.get(key)
        if saved is None or saved.chat_id != chat_id:
            return None
        self._saved.move_to_end(key)
        return saved


@dataclass(frozen=True, slots=True)
class LikePress:
    """Films like this result, in a new message."""

    imdb_id: str


@dataclass(frozen=True, slots=True)
class SimilarPage:
    """Another page of films like `imdb_id`."""

    imdb_id: str
    offset: int


@dataclass(frozen=True, slots=True)
class QueryPage:
    """Another page of a description search."""

    query: str
    offset: int


@dataclass(frozen=True, slots=True)
class SavedPage:
    """Another page of a description search too long for the button, saved under `key` in `PageStore`."""

    key: str
    offset: int


Press = LikePress | SimilarPage | QueryPage | SavedPage


def decode_press(data: str | None) -> Press | None:
    """The press `data` asks for, or None when it is malformed, out of range or not one of ours."""
    text = data or ""
    if len(text.encode("utf-8", "surrogatepass")) > CALLBACK_DATA_LIMIT:
        return None
    if match := _LIKE.fullmatch(text):
        return LikePress(match.group(1))
    if match := _SIMILAR_PAGE.fullmatch(text):
        offset = int(match.group(2))
        return SimilarPage(match.group(1), offset) if offset < MAX_RESULTS else None
    if match := _QUERY_PAGE.fullmatch(text):
        offset = int(match.group(1))
        return QueryPage(match.group(2), offset) if offset < MAX_RESULTS else None
    if match := _SAVED_PAGE.fullmatch(text):
        offset = int(match.group(2))
        return SavedPage(match.group(1), offset) if offset < MAX_RESULTS else None
    return None


def encode_press(press: Press) -> str | None:
    """Callback data for `press`, or None when it would not fit (or not decode back to the same press)."""
    match press:
        case LikePress(imdb_id):
            data = f"l:{imdb_id}"
        case SimilarPage(imdb_id, offset):
            data = f"s:{imdb_id}:{offset}"
        case QueryPage(query, offset):
            data = f"q:{offset}:{query}"
        case SavedPage(key, offset):
            data = f"more:{key}:{offset}"
    return data if decode_press(data) == press else None


def _page_data(results: SearchResults, offset: int, page_key: str | None) -> str | None:
    if results.similar_to is not None:
        return encode_press(SimilarPage(results.similar_to.imdb_id, offset))
    # Decided for the longest offset, so every page of one query pages the same way.
    if encode_press(QueryPage(results.query, MAX_RESULTS - 1)) is not None:
        return encode_press(QueryPage(results.query, offset))
    return encode_press(SavedPage(page_key, offset)) if page_key is not None else None


def build_keyboard(
    results: SearchResults, shown: int, page_size: int, page_key: str | None = None
) -> InlineKeyboardMarkup | None:
    """A "Like #n" button per shown result, then Back / More results when those pages exist."""
    likes = []
    for hit in results.hits[:shown]:
        data = encode_press(LikePress(hit.movie.imdb_id))
        if data is not None:  # a malformed id gets no button rather than one that cannot work
            likes.append(InlineKeyboardButton(LIKE_LABEL.format(rank=hit.rank), callback_data=data))
    rows = [likes[i: i + LIKE_BUTTONS_PER_ROW] for i in range(0, len(likes), LIKE_BUTTONS_PER_ROW)]
    paging = []
    if results.offset > 0 and (back := _page_data(results, max(0, results.offset - page_size), page_key)):
        paging.append(InlineKeyboardButton(BACK_LABEL, callback_data=back))
    next_offset = results.offset + shown
    if (
        shown
        and (results.has_more or shown < len(results.hits))
        and next_offset < MAX_RESULTS
        and (more := _page_data(results, next_offset, page_key))
    ):
        paging.append(InlineKeyboardButton(MORE_LABEL, callback_data=more))
    if paging:
        rows.append(paging)
    return InlineKeyboardMarkup(rows) if rows else None
