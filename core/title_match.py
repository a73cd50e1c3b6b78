"""Resolving a typed, possibly misspelled title to one catalog movie ("movies like Incepton").

rapidfuzz compares the folded text with every folded title (the catalog's ten thousand titles take well under
a millisecond with a score cut-off). Among titles that match about equally well, the film more people voted
on wins: someone typing "the thing" more likely means the film most people saw. A year in the text
("Clash of the Titans 1981") picks between a film and its remake.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from core.domain import MovieFacts
from core.models import is_imdb_id
from core.text_fold import fold_words

# A title counts as named when its similarity to the text (0-100) reaches this (one typo in a six-letter title
# scores 83); below, nothing is resolved. Keys shorter than `SHORT` letters must match exactly.
SHORT = 5
MIN_SCORE = 80.0
# Within this many points of the best match, votes decide.
NEAR = 6.0
_YEAR = re.compile(r"\b(19[0-9]{2}|20[0-2][0-9])\b")
_LEADING_ARTICLE = re.compile(r"^(?:the|a|an) ")
_INDEFINITE = re.compile(r"^(?:a|an) ")


@dataclass(frozen=True, slots=True)
class TitleMatch:
    facts: MovieFacts
    score: float  # 0-100


def _key(words: Sequence[str]) -> str:
    return _LEADING_ARTICLE.sub("", " ".join(words))


class TitleIndex:
    """Every catalog title folded once; `resolve` finds the one a text names."""

    def __init__(self, facts: Sequence[MovieFacts]) -> None:
        keyed = sorted(((_key(f.title_line.split()), f) for f in facts), key=lambda kf: len(kf[0]))
        self._facts = [f for _, f in keyed]
        self._keys = [k for k, _ in keyed]
        self._lengths = [len(k) for k in self._keys]
        self._by_id = {f.imdb_id: f for f in self._facts}

    def resolve(self, text: str, *, min_score: float = MIN_SCORE) -> TitleMatch | None:
        """The film `text` names: an exact IMDb id (what the chat buttons send) or a title, possibly misspelled."""
        if is_imdb_id(text.strip()):
            facts = self._by_id.get(text.strip())
            return None if facts is None else TitleMatch(facts, 100.0)
        year_match = _YEAR.search(text)
        year = int(year_match.group(1)) if year_match else None
        words = fold_words(text if year_match is None else _YEAR.sub(" ", text))
        key = _key(words)
        if not key:
            return None
        cutoff = min_score if len(key) >= SHORT else 100.0
        # Two strings of lengths a <= b score at most 200a / (a + b): only titles of near lengths can reach the
        # cut-off, and titles are held sorted by length, so only that slice is compared.
        share = cutoff / (200.0 - cutoff)
        low = bisect.bisect_left(self._lengths, math.floor(len(key) * share))
        high = bisect.bisect_right(self._lengths, math.ceil(len(key) / share))
        found = [(k, score, low + i) for k, score, i in
                 process.extract(key, self._keys[low:high], scorer=fuzz.ratio, score_cutoff=cutoff, limit=20)]
        if not found:
            return None
        best = max(score for _, score, _ in found)

        def preference(item: tuple[str, float, int]) -> tuple[bool, float]:
            _, score, i = item
            facts = self._facts[i]
            same_year = year is not None and facts.year is not None and abs(facts.year - year) <= 1
            return same_year, score + NEAR * min(1.0, math.log1p(facts.vote_count) / math.log1p(10_000))

        if _INDEFINITE.match(" ".join(words)):
            # "a comedy", "a love story": a kind of film, unless a title begins so too ("A Beautiful Mind").
            found = [item for item in found if _INDEFINITE.match(self._facts[item[2]].title_line.strip())]
            if not found:
                return None
            best = max(score for _, score, _ in found)
        near = [item for item in found if item[1] >= best - NEAR]
        _, score, i = max(near, key=preference)
        return TitleMatch(self._facts[i], float(score))
