"""Server-side memory for "More results": a query does not fit in Telegram's 64-byte callback data.

A button carries only `more:<key>:<offset>`; the key names a recent query kept here in a bounded LRU, so a
restart or a busy day turns old buttons into a polite "expired" answer rather than a wrong search.
"""

from __future__ import annotations

import re
import secrets
from collections import OrderedDict
from dataclasses import dataclass

from core.query_text import MAX_RESULTS

CALLBACK_DATA_LIMIT = 64
_KEY_BYTES = 6  # 8 URL-safe characters: unguessable enough, and short
_CALLBACK = re.compile(r"more:([A-Za-z0-9_-]{8}):([0-9]{1,3})")


@dataclass(frozen=True, slots=True)
class SavedQuery:
    """A query behind a button, bound to the chat it was asked in so a key is useless elsewhere."""

    query: str
    chat_id: int


@dataclass(frozen=True, slots=True)
class PageRequest:
    """A decoded, range-checked button press."""

    key: str
    offset: int


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


def encode_page(key: str, offset: int) -> str:
    data = f"more:{key}:{offset}"
    if decode_page(data) is None:
        raise ValueError(f"cannot encode page key={key!r} offset={offset}")
    return data


def decode_page(data: str | None) -> PageRequest | None:
    """Parse button data; None for anything malformed or out of range, since clients can send any bytes."""
    match = _CALLBACK.fullmatch(data or "")
    if match is None:
        return None
    offset = int(match.group(2))
    if not 0 <= offset < MAX_RESULTS:
        return None
    return PageRequest(match.group(1), offset)
