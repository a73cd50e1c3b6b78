"""Hybrid ranking: fuse dense (meaning) and sparse (words, names) scores, then read the query's hints.

Both signals are normalised within the candidate set before they are mixed: raw cosines of this model sit in
a narrow band while BM25 is unbounded, so mixing raw values lets one of them decide alone. A person's name or a
decade in the query lifts the movies that carry them; a small popularity prior breaks near-ties toward films
people are likelier to mean, kept small because a strong one buries little-known films.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from core.index.port import Candidate
from core.models import Movie
from core.query_intent import QueryIntent

_WORD = re.compile(r"[^\W_]+", re.UNICODE)

# The cosine at which this model's best match is a confident one; below it, shown scores shrink.
CONFIDENT_COSINE = 0.6


@dataclass(frozen=True, slots=True)
class RankingWeights:
    dense: float = 0.7
    sparse: float = 0.3
    name: float = 0.25
    year: float = 0.2
    popularity: float = 0.08


@dataclass(frozen=True, slots=True)
class Ranked:
    movie: Movie
    score: float


class Ranker:
    def __init__(self, weights: RankingWeights | None = None) -> None:
        self.weights = weights or RankingWeights()

    def rank(self, intent: QueryIntent, candidates: Sequence[Candidate], limit: int) -> list[Ranked]:
        if not candidates:
            return []
        w = self.weights
        low = min(c.dense for c in candidates)
        best = max(c.dense for c in candidates)
        spread = (best - low) or 1.0
        top_sparse = max(c.sparse for c in candidates) or 1.0
        query_words = set(_WORD.findall(intent.text.lower()))
        query_lower = " " + " ".join(_WORD.findall(intent.text.lower())) + " "

        scored: list[tuple[float, Movie]] = []
        for c in candidates:
            score = w.dense * (c.dense - low) / spread + w.sparse * c.sparse / top_sparse
            score += w.name * _name_match(c.movie, query_words, query_lower)
            if intent.year_range is not None:
                score += w.year * _year_match(c.movie.year, intent.year_range)
            score += w.popularity * min(1.0, math.log1p(c.movie.vote_count) / math.log1p(10_000))
            scored.append((score, c.movie))
        scored.sort(key=lambda item: (-item[0], item[1].imdb_id))
        # Shown to users: the fused strength, scaled down when even the best match is far in meaning, so a
        # query nothing fits does not show confident numbers. One factor per query keeps the order intact.
        confidence = min(1.0, max(0.0, best) / CONFIDENT_COSINE)
        return [Ranked(movie, round(min(1.0, score) * confidence, 4)) for score, movie in scored[:limit]]


def _name_match(movie: Movie, query_words: set[str], query_lower: str) -> float:
    """1 for a full cast or director name in the query, 0.6 for a distinctive surname alone."""
    best = 0.0
    for name in (*movie.directors, *movie.cast):
        tokens = _WORD.findall(name.lower())
        if not tokens:
            continue
        if len(tokens) > 1 and f" {' '.join(tokens)} " in query_lower:
            return 1.0
        surname = tokens[-1]
        if len(surname) >= 4 and surname in query_words:
            best = 0.6
    return best


def _year_match(year: int | None, year_range: tuple[int, int]) -> float:
    if year is None:
        return 0.0
    low, high = year_range
    if low <= year <= high:
        return 1.0
    distance = low - year if year < low else year - high
    return max(0.0, 1.0 - distance / 4)
