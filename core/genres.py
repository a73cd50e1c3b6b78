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
GENRE_WORDS = {
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
# Words that are as often about the story as about the kind of film ("a war hero", "the family business", "fight
# crime", "a cowboy doll"): they name a genre only right before a word for a film ("a war movie", "family film",
# "crime comedy"). The rest name one wherever they stand.
_STORY_WORDS = frozenset({"cartoon", "cartoons", "cowboy", "cowboys", "crime", "family", "fantasy", "funny", "kids",
                          "mystery", "romance", "romantic", "scary", "war"})
# Not "show" or "story": "janitor becomes a kids show star" is about a show inside the film.
_FILM_WORDS = frozenset({"movie", "movies", "film", "films", "flick", "flicks", "comedy", "comedies", "drama",
                         "thriller", "epic", "musical", "western", "cartoon", "animation", "documentary", "doc",
                         "horror", "adventure", "fantasy", "mystery"})
# "a fake documentary", "semi documentary", "python-ish", "cartoon-like": a style borrowed, not the genre.
_NOT_GENRE_BEFORE = frozenset({"fake", "mock", "semi", "pseudo"})
_NOT_GENRE_AFTER = frozenset({"like", "ish", "esque", "style"})
_PHRASES = (
    (re.compile(r"\b(?:tv|television)[\s-]+movie|\bmade[\s-]+for[\s-]+(?:tv|television)\b"), "TV Movie"),
    (re.compile(r"\bscience[\s-]+fiction\b"), "Science Fiction"),
    (re.compile(r"\brom[\s-]?com"), "Romance"),
)
_WORD = re.compile(r"[a-z]+")


def genre_mask(names: Iterable[str]) -> int:
    """The bit mask of these genre names; unknown names are ignored."""
    mask = 0
    for name in names:
        mask |= _BIT.get(name.lower(), 0)
    return mask


def query_genres(text: str) -> int:
    """The genres a query asks for by name, as a mask (0: none)."""
    lowered = text.lower()
    words = _WORD.findall(lowered)
    names = [name for pattern, name in _PHRASES if pattern.search(lowered)]
    for i, word in enumerate(words):
        name = GENRE_WORDS.get(word)
        if name is None:
            continue
        before = words[i - 1] if i else ""
        after = words[i + 1] if i + 1 < len(words) else ""
        if before in _NOT_GENRE_BEFORE or after in _NOT_GENRE_AFTER:
            continue
        if word in _STORY_WORDS and after not in _FILM_WORDS:
            continue
        names.append(name)
    return genre_mask(names)
