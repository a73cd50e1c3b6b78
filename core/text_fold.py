"""Accent- and case-folded words, so `Française` typed as `francaise` still matches a title or a name."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def fold_words(text: str) -> tuple[str, ...]:
    """Lower-case words with accents removed."""
    if text.isascii():
        return tuple(_WORD.findall(text.lower()))
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return tuple(_WORD.findall("".join(ch for ch in decomposed if not unicodedata.combining(ch))))


# For queries, which recur (paging asks again); catalog titles and names are folded once, at index build.
folded_words = lru_cache(maxsize=4096)(fold_words)
