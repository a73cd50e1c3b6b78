"""The result model every adapter renders: plain data, no framework types."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

# IMDb title ids: "tt" and 7 digits, or 8 for titles added since 2017. The catalog drops rows whose id
# does not match, and the renderers link only ids that do (anything else would make a broken or unsafe link).
IMDB_ID = re.compile(r"tt\d{7,8}")
IMDB_URL = "https://www.imdb.com/title/{imdb_id}/"


def is_imdb_id(text: str) -> bool:
    return IMDB_ID.fullmatch(text) is not None


def imdb_url(imdb_id: str) -> str | None:
    """The title's IMDb page, or None when `imdb_id` is malformed."""
    return IMDB_URL.format(imdb_id=imdb_id) if is_imdb_id(imdb_id) else None


@dataclass(frozen=True, slots=True)
class Movie:
    """One catalog entry as stored in the index payload (already cleaned and repaired)."""

    imdb_id: str
    title: str
    year: int | None
    overview: str
    genres: tuple[str, ...] = ()
    tagline: str = ""
    keywords: tuple[str, ...] = ()
    directors: tuple[str, ...] = ()
    cast: tuple[str, ...] = ()
    vote_count: int = 0
    popularity: float = 0.0

    @property
    def imdb_url(self) -> str | None:
        return imdb_url(self.imdb_id)

    def to_payload(self) -> dict[str, Any]:
        return {
            "imdb_id": self.imdb_id,
            "title": self.title,
            "year": self.year,
            "overview": self.overview,
            "genres": list(self.genres),
            "tagline": self.tagline,
            "keywords": list(self.keywords),
            "director": list(self.directors),
            "cast": list(self.cast),
            "vote_count": self.vote_count,
            "popularity": self.popularity,
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Movie:
        year = payload.get("year")
        return cls(
            imdb_id=str(payload["imdb_id"]),
            title=str(payload["title"]),
            year=int(year) if year is not None else None,
            overview=str(payload.get("overview", "")),
            genres=tuple(payload.get("genres", ())),
            tagline=str(payload.get("tagline", "")),
            keywords=tuple(payload.get("keywords", ())),
            directors=tuple(payload.get("director", ())),
            cast=tuple(payload.get("cast", ())),
            vote_count=int(payload.get("vote_count", 0)),
            popularity=float(payload.get("popularity", 0.0)),
        )


@dataclass(frozen=True, slots=True)
class MovieHit:
    """A movie at a rank, with the similarity shown to users (higher is better, in [0, 1])."""

    rank: int
    movie: Movie
    score: float

    def to_json(self) -> dict[str, Any]:
        m = self.movie
        return {
            "rank": self.rank,
            "title": m.title,
            "year": m.year,
            "imdb_id": m.imdb_id,
            "imdb_url": m.imdb_url,
            "score": round(self.score, 4),
            "genres": list(m.genres),
            "overview": m.overview,
        }


class MatchQuality(Enum):
    """How much to trust a page of results, so every front end can be honest when nothing fits."""

    GOOD = "good"
    WEAK = "weak"  # the best match is weak: show the hits marked as such, with what to try instead
    UNREADABLE = "unreadable"  # the query is in a script the model cannot read (it reads English only)


@dataclass(frozen=True, slots=True)
class SearchResults:
    """One page of results. `offset` is the rank before the first hit; `has_more` says a next page exists.

    `similar_to` is set when the page answers "films like X" (`/similar`, "movies like X"): X itself."""

    query: str
    hits: tuple[MovieHit, ...]
    took_ms: float
    offset: int = 0
    has_more: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    quality: MatchQuality = MatchQuality.GOOD
    similar_to: Movie | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "took_ms": round(self.took_ms, 2),
            "results": [hit.to_json() for hit in self.hits],
        }
