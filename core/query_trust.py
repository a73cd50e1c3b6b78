"""How far to trust a page of results, so front ends can say so instead of showing unrelated films.

The embedding model reads English only: a query mostly in another script (Chinese, Arabic, Cyrillic...) is
split into unknown word pieces and lands near arbitrary films. Latin-script queries in other languages are
left alone; their names and titles still match. A query whose best candidate is far from it in meaning, with
no title named, gets WEAK: the threshold is set on the development set (eval/README.md says how).
"""

from __future__ import annotations

import unicodedata

from core.models import MatchQuality

# Below this cosine between the query and its closest candidate, the best match is weak.
WEAK_COSINE = 0.35
# A query whose letters are at least this share outside the Latin script is unreadable for the model.
FOREIGN_SHARE = 0.5


def unreadable_script(text: str) -> bool:
    if text.isascii():  # most queries: no letter to look up
        return False
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return False
    foreign = sum(1 for ch in letters if not ch.isascii() and not unicodedata.name(ch, "").startswith("LATIN"))
    return foreign >= FOREIGN_SHARE * len(letters)


def match_quality(best_cosine: float, titled: bool) -> MatchQuality:
    """WEAK when even the closest candidate is far in meaning and the query names no title."""
    return MatchQuality.WEAK if best_cosine < WEAK_COSINE and not titled else MatchQuality.GOOD
