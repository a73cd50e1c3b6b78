"""The text recipe: what of a movie is embedded (dense) and indexed lexically (sparse).

Changing anything here changes the vectors, so bump RECIPE_VERSION: the index records it and refuses to be
queried by a mismatching build, and re-ingest re-embeds every row whose hash moved.
"""

from __future__ import annotations

import hashlib
import json

from core.models import Movie

RECIPE_VERSION = "doc-v1"


def dense_text(movie: Movie) -> str:
    """Plot first: the model truncates at 256 tokens, and the plot is what people describe."""
    parts = [movie.overview]
    if movie.tagline:
        parts.append(movie.tagline)
    if movie.keywords:
        parts.append("Keywords: " + ", ".join(movie.keywords) + ".")
    if movie.genres:
        parts.append("Genres: " + ", ".join(movie.genres) + ".")
    return " ".join(parts)


def sparse_text(movie: Movie) -> str:
    """Everything a person might remember by word: names, title, tagline, keywords, genres, plot."""
    return " ".join(
        [
            movie.title,
            movie.overview,
            movie.tagline,
            " ".join(movie.keywords),
            " ".join(movie.genres),
            " ".join(movie.directors),
            " ".join(movie.cast),
        ]
    )


def content_hash(movie: Movie) -> str:
    """Stable digest of everything stored for a movie, so re-ingest re-embeds only what changed."""
    blob = json.dumps([RECIPE_VERSION, movie.to_payload()], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:32]
