"""Hybrid ranking: fuse dense (meaning) and sparse (words, names) scores, then read the query's hints.

Both signals are normalised within the candidate set before they are mixed: raw cosines of this model sit in
a narrow band while BM25 is unbounded, so mixing raw values lets one of them decide alone. The dense side is
scaled to [0, 1] between the weakest and the best candidate; the sparse side as a z-score, so a film whose
words stand out from the rest gains, while a flat lexical field (common words only) moves nobody.

A person's name, a decade or a title in the query lifts the movies that carry them. A popularity prior
(log of the vote count) reflects that people describe the films they have seen: on the development set,
raising its weight from 0.08 to 0.25 lifted well-known films' MRR@10 from 0.75 to 0.81 and moved
little-known ones from 0.856 to 0.852. It stays below the weight of meaning: a strong prior buries
little-known films. Weights were chosen on both halves of the set together (see eval/README.md).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from core.index.port import Candidate
from core.query_intent import QueryIntent

_WORD = re.compile(r"[^\W_]+", re.UNICODE)

# The cosine at which this model's best match is a confident one; below it, shown scores shrink.
CONFIDENT_COSINE = 0.6
# Fused scores map to shown scores as 1 - exp(-fused / SCORE_SCALE): a strong plot match shows about 0.8.
SCORE_SCALE = 0.6
POPULAR_VOTES = 10_000
_LOG_POPULAR = math.log1p(POPULAR_VOTES)
# A title counts as asked for when it is at least this share of the query's words: people who know the
# title type little else, while descriptions contain everyday phrases that are titles too ("family business").
TITLE_SHARE = 0.5


@dataclass(frozen=True, slots=True)
class RankingWeights:
    dense: float = 0.5
    sparse: float = 0.2
    name: float = 0.25
    year: float = 0.3
    popularity: float = 0.35
    title: float = 0.6


@dataclass(frozen=True, slots=True)
class Ranked:
    imdb_id: str
    score: float


class Ranker:
    def __init__(self, weights: RankingWeights | None = None) -> None:
        self.weights = weights or RankingWeights()

    def rank(self, intent: QueryIntent, candidates: Sequence[Candidate], limit: int) -> list[Ranked]:
        if not candidates:
            return []
        w = self.weights
        dense = [c.dense for c in candidates]
        sparse = [c.sparse for c in candidates]
        low, best = min(dense), max(dense)
        spread = (best - low) or 1.0
        mean = math.fsum(sparse) / len(sparse)
        deviation = math.sqrt(math.fsum((s - mean) ** 2 for s in sparse) / len(sparse)) or 1.0

        query_words = _folded_words(intent.text)
        query_set = frozenset(query_words)
        query_line = f" {' '.join(query_words)} "
        fused: list[float] = []
        for c in candidates:
            score = w.dense * (c.dense - low) / spread + w.sparse * (c.sparse - mean) / (3 * deviation)
            score += w.name * _name_match(c.people, query_set, query_line)
            score += w.title * _title_match(c.title, query_words, query_line)
            if intent.year_range is not None:
                score += w.year * _year_match(c.year, intent.year_range)
            score += w.popularity * _popularity(c.vote_count)
            fused.append(score)
        order = sorted(range(len(candidates)), key=lambda i: (-fused[i], candidates[i].imdb_id))[:limit]
        # Shown to users: the fused strength, scaled down when even the best match is far in meaning, so a
        # query nothing fits does not show confident numbers. One factor per query keeps the order intact.
        confidence = min(1.0, max(0.0, best) / CONFIDENT_COSINE)
        return [
            Ranked(candidates[i].imdb_id, round(confidence * (1.0 - math.exp(-max(0.0, fused[i]) / SCORE_SCALE)), 4))
            for i in order
        ]


def _popularity(votes: int) -> float:
    return min(1.0, math.log1p(votes) / _LOG_POPULAR)


@lru_cache(maxsize=65_536)
def _folded_words(text: str) -> tuple[str, ...]:
    """Lower-case words with accents removed, so `Française` and `francaise` compare equal."""
    if text.isascii():
        return tuple(_WORD.findall(text.lower()))
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return tuple(_WORD.findall("".join(ch for ch in decomposed if not unicodedata.combining(ch))))


def _name_match(people: Sequence[str], query_words: frozenset[str], query_line: str) -> float:
    """1 for a full cast or director name in the query, 0.6 for a distinctive surname alone."""
    best = 0.0
    for name in people:
        tokens = _folded_words(name)
        if not tokens or tokens[-1] not in query_words:
            continue
        if len(tokens) > 1 and f" {' '.join(tokens)} " in query_line:
            return 1.0
        if len(tokens[-1]) >= 4:
            best = 0.6
    return best


def _title_match(title: str, query_words: tuple[str, ...], query_line: str) -> float:
    """1 when the query is mostly this whole title, else 0."""
    tokens = _folded_words(title)
    if not tokens or len(tokens) < TITLE_SHARE * len(query_words):
        return 0.0
    return 1.0 if f" {' '.join(tokens)} " in query_line else 0.0


def _year_match(year: int | None, year_range: tuple[int, int]) -> float:
    if year is None:
        return 0.0
    low, high = year_range
    if low <= year <= high:
        return 1.0
    distance = low - year if year < low else year - high
    return max(0.0, 1.0 - distance / 4)
