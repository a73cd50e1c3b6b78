"""Catalog and user text made fit for one line of a chat reply: flattened, measured, shortened.

One rule for every renderer (console, Telegram, Discord). Lengths are UTF-16 code units, as Telegram counts
them; never fewer than code points, so Discord's limits hold however it counts. Text is read lazily, so a huge
overview costs no more than a short one.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterator

ELLIPSIS = "…"

# Control, surrogate, private-use and unassigned characters, and the bidirectional overrides and isolates
# that would reorder the rest of a reply; joiners stay, as emoji sequences and several scripts need them.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cs", "Co", "Cn"})
_DROPPED = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff")
# Not left dangling before the ellipsis.
_TRAILING = frozenset(" ,.;:!?-–—")

Escape = Callable[[str, bool], str]
"""Turns one character into what the reply shows; the flag says it is the first one of the line."""


def units(text: str) -> int:
    """Length in UTF-16 code units: a character outside the BMP (most emoji) counts twice."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def one_line(text: str) -> Iterator[str]:
    """Characters of `text` with white space folded to single spaces, trimmed, unprintable ones dropped."""
    space_pending = started = False
    for ch in text:
        if ch.isspace():
            space_pending = started
        elif ch not in _DROPPED and unicodedata.category(ch) not in _DROPPED_CATEGORIES:
            if space_pending:
                yield " "
                space_pending = False
            started = True
            yield ch


def flatten(text: str) -> str:
    """`text` on one line (see `one_line`)."""
    return "".join(one_line(text))


def as_is(ch: str, first: bool) -> str:
    return ch


def fit(text: str, limit: int, escape: Escape = as_is) -> str:
    """`text` on one line, each character escaped, in at most `limit` units.

    Text that is too long is cut at a word boundary when one is not too far back (one giant word is cut where
    it must be), never inside an escape, and ends with an ellipsis; "" when not even one character fits.
    """
    pieces: list[tuple[str, str]] = []  # (character, as shown)
    used = 0
    for ch in one_line(text):
        shown = escape(ch, not pieces)
        pieces.append((ch, shown))
        used += units(shown)
        if used > limit:
            break
    else:
        return "".join(shown for _, shown in pieces)
    room = limit - units(ELLIPSIS)
    end = 0
    for _, shown in pieces:
        room -= units(shown)
        if room < 0:
            break
        end += 1
    if end == 0:
        return ""
    space = next((i for i in range(end - 1, 0, -1) if pieces[i][0] == " "), 0)
    if space > end // 2:
        end = space
    while end and pieces[end - 1][0] in _TRAILING:
        end -= 1
    return "".join(shown for _, shown in pieces[:end]) + ELLIPSIS
