"""What counts as a searchable query, decided once for every adapter."""

from __future__ import annotations

import re
import unicodedata

from core.errors import InvalidQuery

MAX_QUERY_CHARS = 1000
MAX_RESULTS = 50
EXAMPLE_QUERY = "NASA tries to rescue an astronaut stranded on Mars"

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")
_SPACE = re.compile(r"\s+")


def clean_query(raw: str) -> str:
    """Return the query with control characters removed and white space folded, or raise InvalidQuery.

    Markup is left as text: escaping is the renderer's job, and `<b>` is a harmless search term.
    """
    text = unicodedata.normalize("NFKC", raw or "")
    text = _CONTROL.sub(" ", text)
    text = _SPACE.sub(" ", text).strip()
    if not text:
        raise InvalidQuery(f"Describe the movie you have in mind, for example: {EXAMPLE_QUERY}")
    if len(text) > MAX_QUERY_CHARS:
        raise InvalidQuery(
            f"That description is {len(text):,} characters long; please keep it under {MAX_QUERY_CHARS:,}."
        )
    if not any(ch.isalnum() for ch in text):
        raise InvalidQuery("That description has no words in it. Try a few words about the plot.")
    return text
