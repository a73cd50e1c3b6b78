"""What counts as a searchable query, decided once for every adapter."""

from __future__ import annotations

import re
import unicodedata

from core.errors import InvalidQuery

MAX_QUERY_CHARS = 1000
# Raw text longer than this is refused before any normalisation: NFKC's reordering of combining marks grows
# faster than linearly, so a long run of them would hold a worker for seconds. Room for spacing and markup
# around a description of MAX_QUERY_CHARS; Telegram's own message limit is 4,096.
MAX_RAW_CHARS = 4 * MAX_QUERY_CHARS
MAX_RESULTS = 50
EXAMPLE_QUERY = "NASA tries to rescue an astronaut stranded on Mars"

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")
_SPACE = re.compile(r"\s+")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def clean_query(raw: str) -> str:
    """Return the query with control characters removed and white space folded, or raise InvalidQuery.

    Markup is left as text: escaping is the renderer's job, and `<b>` is a harmless search term.
    Over-long raw text is refused before normalising it, so every query costs bounded time.
    """
    raw = raw or ""
    if len(raw) > MAX_RAW_CHARS:
        raise _too_long(len(raw))
    text = unicodedata.normalize("NFKC", join_surrogates(raw))
    text = _CONTROL.sub(" ", text)
    text = _SPACE.sub(" ", text).strip()
    if not text:
        raise InvalidQuery(f"Describe the movie you have in mind, for example: {EXAMPLE_QUERY}")
    if len(text) > MAX_QUERY_CHARS:
        raise _too_long(len(text))
    if not any(ch.isalnum() for ch in text):
        raise InvalidQuery("That description has no words in it. Try a few words about the plot.")
    return text


def join_surrogates(text: str) -> str:
    """One policy for UTF-16 halves that reach us as separate code points (JSON `\\ud83d\\ude00`, a client that
    split a pair): a high half followed by a low half is re-joined into its character; a lone half is dropped.
    Left in, a lone half cannot be encoded as UTF-8 and would fail the reply that echoes the query."""
    if not _SURROGATE.search(text):
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "ignore")


def _too_long(length: int) -> InvalidQuery:
    return InvalidQuery(f"That description is {length:,} characters long; please keep it under {MAX_QUERY_CHARS:,}.")
