"""Genres as a bit mask (held for every movie in its ranking facts), and the genre words people type.

A genre word in a query ("animated", "a horror movie") is a soft filter: films of that genre gain in ranking,
the others are not removed, since people misremember genres and the catalog's labels are coarse.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# TMDB's genres, in a fixed order: a movie's mask sets bit i for GENRES[i]. Append only (masks are stored).
GENRES = (
    "Action", "Adventure", "Animation", "Comedy", "Crime", "Documentary", "Drama", "Family", "Fantasy",
    "Foreign", "History", "Horror", "Music", "Mystery", "Romance", "Science Fiction", "TV Movie", "Thriller",
    "War", "Western",
)
_BIT = {name.lower(): 1 << i for i, name in enumerate(GENRES)}

# Words that name a genre, folded (lower case). Broad words ("drama", "action") are left out on purpose: they
# fit most of the catalog and say little; these are the ones that split it.
_GENRE_WORDS = {
    "animated": "Animation", "animation": "Animation", "cartoon": "Animation", "cartoons": "Animation",
    "anime": "Animation", "pixar": "Animation",
    "documentary": "Documentary", "documentaries": "Documentary", "doc": "Documentary", "docu": "Documentary",
    "horror": "Horror", "scary": "Horror", "slasher": "Horror",
    "western": "Western", "westerns": "Western", "cowboy": "Western", "cowboys": "Western",
    "musical": "Music", "musicals": "Music",
    "comedy": "Comedy", "comedies": "Comedy", "funny": "Comedy",
    "romcom": "Romance", "romantic": "Romance", "romance": "Romance",
    "sci": "Science Fiction", "scifi": "Science Fiction",
    "war": "War", "thriller": "Thriller", "fantasy": "Fantasy", "mystery": "Mystery", "crime": "Crime",
    "family": "Family", "kids": "Family",
}
_WORD = re.compile(r"[a-z]+")


def genre_mask(names: Iterable[str]) -> int:
    """The bit mask of these genre names; unknown names are ignored."""
    mask = 0
    for name in names:
        mask |= _BIT.get(name.lower(), 0)
    return mask


def query_genres(text: str) -> int:
    """The genres a query asks for by name, as a mask (0: none)."""
    return genre_mask(_GENRE_WORDS[w] for w in _WORD.findall(text.lower()) if w in _GENRE_WORDS)
