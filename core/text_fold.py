"""Accent- and case-folded words, so `Française` typed as `francaise` still matches a title or a name."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


@lru_cache(maxsize=4096)
def folded_words(text: str) -> tuple[str, ...]:
    """Lower-case words with accents removed. Cached for queries, which recur (paging asks again)."""
    return _fold(text)


def fold_uncached(text: str) -> tuple[str, ...]:
    """The same words for one-off texts (catalog titles and names at index build), kept out of the cache."""
    return _fold(text)


def _fold(text: str) -> tuple[str, ...]:
    if text.isascii():
        return tuple(_WORD.findall(text.lower()))
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return tuple(_WORD.findall("".join(ch for ch in decomposed if not unicodedata.combining(ch))))
