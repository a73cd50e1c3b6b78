"""Hybrid ranking: fuse dense (meaning) and sparse (words, names) candidates, then read the query's hints.

Scores are fused by value, not only by rank, so the number shown to users is a calibrated match strength in
[0, 1] that falls with rank. A person's name or a decade in the query lifts the movies that carry them rather
than a fixed popularity bias, which would bury little-known films.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from core.index.port import Candidate, Retrieved
from core.models import Movie
from core.query_intent import QueryIntent

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class RankingWeights:
    dense: float = 0.55
    sparse: float = 0.45
    name: float = 0.25
    year: float = 0.15
    popularity: float = 0.03
    rrf_k: int = 60
    rrf: float = 0.0


@dataclass(frozen=True, slots=True)
class Ranked:
    movie: Movie
    score: float


@dataclass
class _Features:
    movie: Movie
    dense: float | None = None
    sparse: float = 0.0
    dense_rank: int | None = None
    sparse_rank: int | None = None


class Ranker:
    def __init__(self, weights: RankingWeights | None = None) -> None:
        self.weights = weights or RankingWeights()

    def rank(self, intent: QueryIntent, retrieved: Iterable[Retrieved], limit: int) -> list[Ranked]:
        features = _collect(retrieved)
        if not features:
            return []
        w = self.weights
        dense_scores = [f.dense for f in features.values() if f.dense is not None]
        dense_floor = min(dense_scores) if dense_scores else 0.0
        sparse_top = max((f.sparse for f in features.values()), default=0.0) or 1.0
        query_words = set(_WORD.findall(intent.text.lower()))
        query_lower = " " + " ".join(_WORD.findall(intent.text.lower())) + " "
        base_total = w.dense + w.sparse + w.rrf

        ranked: list[Ranked] = []
        for f in features.values():
            cosine = f.dense if f.dense is not None else dense_floor
            score = w.dense * max(0.0, cosine) + w.sparse * (f.sparse / sparse_top)
            if w.rrf:
                score += w.rrf * w.rrf_k * (_rrf(f.dense_rank, w.rrf_k) + _rrf(f.sparse_rank, w.rrf_k)) / 2
            score /= base_total
            bonus = w.name * _name_match(f.movie, query_words, query_lower)
            if intent.year_range is not None:
                bonus += w.year * _year_match(f.movie.year, intent.year_range)
            bonus += w.popularity * min(1.0, math.log1p(f.movie.vote_count) / math.log1p(10_000))
            ranked.append(Ranked(f.movie, score + bonus))
        ranked.sort(key=lambda r: (-r.score, r.movie.imdb_id))
        # Shown to users as a match strength: capped at 1 where a name or year pushed a strong match past it.
        return [Ranked(r.movie, min(1.0, r.score)) for r in ranked[:limit]]


def _rrf(rank: int | None, k: int) -> float:
    return 0.0 if rank is None else 1.0 / (k + rank)


def _collect(retrieved: Iterable[Retrieved]) -> dict[str, _Features]:
    features: dict[str, _Features] = {}

    def entry(c: Candidate) -> _Features:
        return features.setdefault(c.movie.imdb_id, _Features(c.movie))

    for part in retrieved:
        for rank, c in enumerate(part.dense, start=1):
            f = entry(c)
            f.dense = c.score if f.dense is None else max(f.dense, c.score)
            f.dense_rank = rank if f.dense_rank is None else min(f.dense_rank, rank)
        for rank, c in enumerate(part.sparse, start=1):
            f = entry(c)
            f.sparse = max(f.sparse, c.score)
            f.sparse_rank = rank if f.sparse_rank is None else min(f.sparse_rank, rank)
    return features


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
