"""Typo repair for what the retrievers read: "shark eats swimers, the sheriiff" is searched as "swimmers",
"sheriff".

A query word that no vocabulary knows (the embedding model's whole words, the catalog's titles and names) is
replaced by the most common known word one edit away (rapidfuzz's OSA distance: a swapped pair of letters is one
edit) with the same first letter and about the same length: people rarely mistype the first letter, and that
keeps each lookup to a thousand words or so. A word with no such neighbour is left alone, so rare words typed
right mostly survive. The repaired text goes to the dense and lexical retrievers only: names and titles are
matched on what was typed (with their own typo tolerance), and the query shown is never changed.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

from rapidfuzz.distance import OSA
from rapidfuzz.process import extractOne

# Shorter words are left alone: one edit away from a short word there are too many other words ("loot", "look").
MIN_LETTERS = 5
# Words looked up once are remembered (with their answer); the cache is dropped when it grows past this.
CACHE_WORDS = 4096
_WORD = re.compile(r"[a-z]+")
_UNSEEN = "\0"  # not a word: marks a word not looked up yet
# A known word with one of these endings counts as known ("coconuts", "banging"): vocabularies list stems.
_ENDINGS = ("s", "es", "ed", "d", "ing", "er", "ers", "ly", "y", "ies", "ied")


class Speller:
    """Known words by first letter and length, each list in order of preference: `words` comes most common
    first (the model's vocabulary is), so the first word one edit away is the likeliest meant."""

    def __init__(self, words: Iterable[str]) -> None:
        self._known: set[str] = set()
        self._near: dict[tuple[str, int], list[str]] = defaultdict(list)
        for word in words:
            if len(word) < MIN_LETTERS - 1 or word in self._known or not (word.isascii() and word.isalpha()):
                continue
            self._known.add(word)
            for length in (len(word) - 1, len(word), len(word) + 1):
                self._near[(word[0], length)].append(word)
        self._near = dict(self._near)
        self._cache: dict[str, str | None] = {}

    def __len__(self) -> int:
        return len(self._known)

    def repair(self, text: str) -> tuple[str, list[str]]:
        """`text` with each unknown word (of MIN_LETTERS or more) replaced by its nearest known word, and the
        words put in."""
        lowered = text.lower()
        out: list[str] = []
        added: list[str] = []
        last = 0
        for match in _WORD.finditer(lowered):
            word = match.group(0)
            if len(word) < MIN_LETTERS or self.known(word):
                continue
            fixed = self.nearest(word)
            if fixed is not None:
                out += [text[last : match.start()], fixed]
                added.append(fixed)
                last = match.end()
        if not out:
            return text, added
        out.append(text[last:])
        return "".join(out), added

    def known(self, word: str) -> bool:
        if word in self._known:
            return True
        for ending in _ENDINGS:
            if word.endswith(ending) and len(word) - len(ending) >= MIN_LETTERS - 1:
                stem = word[: -len(ending)]
                if stem in self._known or stem + "e" in self._known or stem + "y" in self._known or (
                        stem[-1] == stem[-2] and stem[:-1] in self._known):
                    return True
        return False

    def nearest(self, word: str) -> str | None:
        """The most common known word one edit from `word`, with its first letter; None when there is none."""
        cached = self._cache.get(word, _UNSEEN)  # one read: another thread may clear the cache meanwhile
        if cached is not _UNSEEN:
            return cached
        choices = self._near.get((word[0], len(word)))
        found = None if not choices else extractOne(word, choices, scorer=OSA.distance, score_cutoff=1)
        fixed = None if found is None else str(found[0])
        if len(self._cache) >= CACHE_WORDS:
            self._cache.clear()
        self._cache[word] = fixed
        return fixed
