"""Wording every front end shares for "films like X" and for honest answers, so all three say the same.

Plain text only: each renderer escapes it for its own markup.
"""

from __future__ import annotations

from core.models import Movie
from core.query_text import EXAMPLE_QUERY

EXAMPLE_TITLE = "The Martian"
UNREADABLE = (
    "I can only read English, and could not make sense of that. "
    f"Describe the plot in English, for example: {EXAMPLE_QUERY}"
)
WEAK_NOTE = "Nothing fits well: these are weak matches."
WEAK_HINT = "Add details to sharpen the search: a character, a place, an event, roughly when it came out."
SIMILAR_PREFIX = "Films like "
STALE_BUTTON = "This list is too old to use. Please search again."


def film_label(movie: Movie) -> str:
    """`Title (year)`, or just the title when the year is unknown."""
    return f"{movie.title} ({movie.year})" if movie.year else movie.title


def similar_heading(movie: Movie) -> str:
    return SIMILAR_PREFIX + film_label(movie)
