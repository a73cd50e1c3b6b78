"""Hybrid ranking: a weighted sum of signals about each candidate, with weights fitted on the development set.

The signals (`FEATURES`), each computed for all candidates at once:
- dense: the cosine, scaled to [0, 1] between the weakest and the best candidate (this model's raw cosines
  sit in a narrow band), and `dense_raw`, the cosine itself, so a match that is strong in absolute terms counts;
- sparse: BM25 as a z-score within the candidates, so words that stand out gain and a flat field moves nobody;
- name: a cast or director name in the query (1 for a full name, 0.6 for a surname), or within a typo of one
  (rapidfuzz; `FUZZY_NAME_CREDIT`): one signal, so the weight learned from names typed right applies to typos;
- title: the film's title is most of the query, or the query names it with a typo (resolved by the service);
- year: inside the decade or year the query gives, fading outside it; `year_setting` instead when the query may
  give the years of the story's setting ("a guard in the 1930s"), which people often mean rather than the release;
- popularity: log of the vote count, since people describe the films they have seen;
- genre: the film has a genre the query names ("animated", "documentary"), a soft filter;
- sequel: the query asks for "the sequel" and the title looks like a later entry ("2", "Part II", "Returns").

The weights are learned (scripts/fit_ranking.py: pairwise logistic regression, cross-validated by film) and read
from `ranking_weights.json` beside this module; serving needs no scikit-learn.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from rapidfuzz import fuzz, process

from core.domain import Candidates, MovieFacts
from core.query_intent import QueryIntent
from core.text_fold import folded_words

log = logging.getLogger(__name__)

FEATURES = ("dense", "dense_raw", "sparse", "name", "title", "year", "popularity", "genre", "sequel", "year_setting")
WEIGHTS_FILE = Path(__file__).with_name("ranking_weights.json")

# The cosine at which this model's best match is a confident one; below it, shown scores shrink.
CONFIDENT_COSINE = 0.6
# Fused scores map to shown scores as 1 - exp(-fused / SCORE_SCALE): a strong plot match shows about 0.8.
SCORE_SCALE = 0.6
POPULAR_VOTES = 10_000
_LOG_POPULAR = math.log1p(POPULAR_VOTES)
# A title counts as asked for when it is at least this share of the query's words: people who know the
# title type little else, while descriptions contain everyday phrases that are titles too ("family business").
TITLE_SHARE = 0.5
# A lone query word this long or longer may be a misspelled surname; shorter ones match names by chance.
FUZZY_SURNAME_LETTERS = 7
FUZZY_NAME_SCORE = 86.0
# What a name within a typo counts for, against 1 for a full name typed right and 0.6 for a surname.
FUZZY_NAME_CREDIT = 0.5
# How many of the best candidates (by the other signals) are checked for a name typed with a typo.
FUZZY_NAME_CANDIDATES = 20
# Words that are never part of a name pair ("the rock" aside), so the pairs checked stay few.
_GLUE = frozenset({"a", "an", "and", "as", "at", "by", "for", "from", "in", "into", "is", "it", "of", "on", "or",
                   "the", "to", "was", "where", "who", "with"})
_SEQUEL_TITLE = re.compile(r" (?:[2-9]|ii|iii|iv|v|vi|part|chapter|episode|returns|reloaded|revenge|rises|"
                           r"resurrection|retribution|reckoning|strikes|continues|again) ")

# Hand-set before the fit, kept as the fallback when the weights file is missing or unreadable.
DEFAULT_WEIGHTS: Mapping[str, float] = {
    "dense": 0.5, "dense_raw": 0.0, "sparse": 0.2, "name": 0.25, "title": 0.6, "year": 0.3,
    "popularity": 0.35, "genre": 0.1, "sequel": 0.2, "year_setting": 0.1,
}


@dataclass(frozen=True, slots=True)
class RankingWeights:
    """One weight per feature, in `FEATURES` order."""

    values: tuple[float, ...]

    @classmethod
    def of(cls, weights: Mapping[str, float]) -> RankingWeights:
        return cls(tuple(float(weights.get(name, 0.0)) for name in FEATURES))

    @classmethod
    def load(cls, path: Path = WEIGHTS_FILE) -> RankingWeights:
        """The fitted weights; the hand-set ones when the file is absent or not a weights file."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            weights = data["weights"]
            if not all(isinstance(weights.get(name, 0.0), int | float) for name in FEATURES):
                raise TypeError
        except FileNotFoundError:
            return cls.of(DEFAULT_WEIGHTS)
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            log.warning("%s is not a ranking weights file; using the hand-set weights", path)
            return cls.of(DEFAULT_WEIGHTS)
        return cls.of(weights)

    def as_dict(self) -> dict[str, float]:
        return dict(zip(FEATURES, self.values, strict=True))


@dataclass(frozen=True, slots=True)
class Ranked:
    imdb_id: str
    score: float


class Ranker:
    """Scores all candidates at once with numpy; only names and titles, which few candidates share with a
    query, are checked one by one (on words folded at index build)."""

    def __init__(self, weights: RankingWeights | None = None) -> None:
        self.weights = weights or RankingWeights.load()
        self._w = np.array(self.weights.values, dtype=np.float64)

    def features(self, intent: QueryIntent, candidates: Candidates,
                 titled_ids: Collection[str] = ()) -> NDArray[np.float64]:
        """One row per candidate, one column per name in `FEATURES`. `titled_ids`: films the query names by
        title, resolved by the caller (possibly from a misspelling)."""
        n = len(candidates)
        x = np.zeros((n, len(FEATURES)), dtype=np.float64)
        if n == 0:
            return x
        facts = candidates.facts
        dense, sparse = candidates.dense, candidates.sparse
        low, best = float(dense.min()), float(dense.max())
        x[:, 0] = (dense - low) / ((best - low) or 1.0)
        x[:, 1] = dense
        mean = math.fsum(sparse.tolist()) / n
        deviation = math.sqrt(math.fsum(((sparse - mean) ** 2).tolist()) / n) or 1.0
        x[:, 2] = (sparse - mean) / (3 * deviation)

        query_words = folded_words(intent.text)
        query_set = frozenset(query_words)
        query_line = f" {' '.join(query_words)} "
        for i in [i for i, f in enumerate(facts) if not query_set.isdisjoint(f.surnames)]:
            x[i, 3] = _name_match(facts[i].names, query_set, query_line)
        min_title = max(1.0, TITLE_SHARE * len(query_words))
        x[[i for i, f in enumerate(facts) if f.title_length >= min_title and f.title_line in query_line], 4] = 1.0
        if titled_ids:
            x[[i for i, f in enumerate(facts) if f.imdb_id in titled_ids], 4] = 1.0
        if intent.year_range is not None:
            years = np.array([np.nan if f.year is None else f.year for f in facts])
            x[:, 9 if intent.year_setting else 5] = _year_match(years, intent.year_range)
        votes = np.fromiter((f.vote_count for f in facts), dtype=np.float64, count=n)
        x[:, 6] = np.minimum(1.0, np.log1p(votes) / _LOG_POPULAR)
        if intent.genres:
            x[:, 7] = np.fromiter((1.0 if f.genres & intent.genres else 0.0 for f in facts), dtype=np.float64,
                                  count=n)
        if intent.sequel:
            x[:, 8] = np.fromiter((1.0 if _SEQUEL_TITLE.search(f.title_line) else 0.0 for f in facts),
                                  dtype=np.float64, count=n)
        # Typed names are checked for typos only among the candidates the other signals put near the top: a
        # film further down would not reach the first page on a name anyway, and the check is the costly part.
        near = np.argpartition(-(x @ self._w), min(FUZZY_NAME_CANDIDATES, n) - 1)[:FUZZY_NAME_CANDIDATES]
        _fuzzy_names(x, near.tolist(), facts, query_words)
        return x

    def rank(self, intent: QueryIntent, candidates: Candidates, limit: int,
             titled_ids: Collection[str] = ()) -> list[Ranked]:
        n = len(candidates)
        if n == 0:
            return []
        facts = candidates.facts
        fused = self.features(intent, candidates, titled_ids) @ self._w
        scores = fused.tolist()
        # Only the top `limit` (and any tied with the last of them) need the exact order, ties by imdb id.
        contenders: Sequence[int] = range(n)
        if n > limit:
            contenders = np.flatnonzero(fused >= np.partition(fused, n - limit)[n - limit]).tolist()
        order = sorted(contenders, key=lambda i: (-scores[i], facts[i].imdb_id))[:limit]
        # Shown to users: the fused strength, scaled down when even the best match is far in meaning, so a
        # query nothing fits does not show confident numbers. One factor per query keeps the order intact.
        confidence = min(1.0, max(0.0, float(candidates.dense.max())) / CONFIDENT_COSINE)
        return [
            Ranked(facts[i].imdb_id, round(confidence * (1.0 - math.exp(-max(0.0, scores[i]) / SCORE_SCALE)), 4))
            for i in order
        ]


def _name_match(names: Sequence[str], query_words: frozenset[str], query_line: str) -> float:
    """1 for a full cast or director name in the query, 0.6 for a distinctive surname alone."""
    best = 0.0
    for name in names:
        surname = name.rpartition(" ")[2]
        if surname not in query_words:
            continue
        if surname != name and f" {name} " in query_line:
            return 1.0
        if len(surname) >= 4:
            best = 0.6
    return best


def _fuzzy_names(x: NDArray[np.float64], rows: Sequence[int], facts: Sequence[MovieFacts],
                 query_words: Sequence[str]) -> None:
    """Raises the name column to FUZZY_NAME_CREDIT for two query words within a typo of a candidate's full name
    ("tom hankss"), or one long word within a typo of a long surname ("spielburg"). Short single words are left
    out: everyday words are a typo away from some surname, and that noise is what the fit punished."""
    texts = [f"{a} {b}" for a, b in itertools.pairwise(query_words) if a not in _GLUE and b not in _GLUE]
    texts += [w for w in dict.fromkeys(query_words) if len(w) >= FUZZY_SURNAME_LETTERS]
    if not texts:
        return
    choices = list({n for i in rows for f in (facts[i],) for n in (*f.names, *f.surnames)
                    if " " in n or len(n) >= FUZZY_SURNAME_LETTERS})
    if not choices:
        return
    matrix = process.cdist(texts, choices, scorer=fuzz.ratio, score_cutoff=FUZZY_NAME_SCORE, dtype=np.uint8)
    hits = np.flatnonzero(matrix.max(axis=0))
    if len(hits) == 0:
        return
    matched = {choices[j] for j in hits}
    for i in rows:
        if not matched.isdisjoint(facts[i].names) or not matched.isdisjoint(facts[i].surnames):
            x[i, 3] = max(x[i, 3], FUZZY_NAME_CREDIT)


def _year_match(years: NDArray[np.float64], year_range: tuple[int, int]) -> NDArray[np.float64]:
    """1 inside the range, fading to 0 four years away; 0 for an unknown year (NaN)."""
    low, high = year_range
    distance = np.where(years < low, low - years, np.where(years > high, years - high, 0.0))
    return np.nan_to_num(np.maximum(0.0, 1.0 - distance / 4), nan=0.0)
