"""What a query says besides the plot: a year or a decade people remember. Names are matched in ranking.

The plot is what the dense model compares. Years and framing ("90s movie where") are said about the film,
not in it: left in, they pull the query toward overviews that mention films or dates. Taking them out of the
dense side alone (the lexical side keeps the whole query) lifted MRR@10 on both halves of the development set.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.genres import GENRE_WORDS, query_genres

_DECADE_WORDS = {
    "twenties": 1920, "thirties": 1930, "forties": 1940, "fifties": 1950, "sixties": 1960,
    "seventies": 1970, "eighties": 1980, "nineties": 1990,
}
_FULL_DECADE = re.compile(r"\b(19[0-9]0|20[0-2]0)'?s\b")
_SHORT_DECADE = re.compile(r"(?<![\w])'?([0-9]0)'?s\b")
_WORD_DECADE = re.compile(r"\b(" + "|".join(_DECADE_WORDS) + r")\b")
_YEAR = re.compile(r"\b(19[0-9]{2}|20[0-2][0-9])\b")
_PART = re.compile(r"\b(early|mid|late)[\s-]*$")
_TIME_PHRASE = re.compile(
    r"\b(?:(?:from|in|of)\s+(?:the\s+)?)?(?:(?:early|mid|late)[\s-]*)?(?:(?:19|20)[0-9]0'?s|'?[0-9]0'?s|(?:19|20)[0-9]{2}|"
    + "|".join(_DECADE_WORDS) + r")\b",
    re.IGNORECASE,
)
# "a woman in her 30s": an age, not a decade.
_AGE_BEFORE = re.compile(r"\b(?:her|his|their|my|your|its)\s+(?:(?:early|mid|late)[\s-]*)?$", re.IGNORECASE)
# Whether a time phrase is said of the film ("a 90s movie", "from the 80s", "..., early 90s") or may be said of
# its story ("a guard in the 1930s", "during the sixties"): the second is as often when the story is set, so
# ranking weighs the two apart (`QueryIntent.year_setting`).
_FILM_CUES = frozenset(GENRE_WORDS) | {
    "movie", "movies", "film", "films", "flick", "flicks", "drama", "action", "teen", "tv", "classic", "cult",
    "version", "remake", "sequel", "adaptation", "indie", "disney", "b", "one", "picture", "release", "sci",
}
_LEAD_WORDS = frozenset({"early", "mid", "late", "a", "an", "the", "some", "old", "that", "this"})
_AFTER_WORDS = re.compile(r"^[\s,.!?;:-]*(?:(?:or\s+so|i\s+think|maybe|probably|lol|ish)[\s,.!?]*)*$", re.IGNORECASE)
_WORDS = re.compile(r"[a-z0-9]+")
_FRAME = re.compile(
    r"\b(?:(?:that|this|the|a|an|one of those|some|old)\s+)?(?:movie|film|flick|one)s?\s+"
    r"(?:where|about|with|in which|that|when)\b",
    re.IGNORECASE,
)


# "movies like X", "something similar to X", "if I liked X": X is a title to resolve (core.title_match). When X
# names no catalog title ("a movie like a heist in space"), the query is searched as a description.
_LIKE = re.compile(
    r"^(?:.*?\b)?(?:movies?|films?|something|anything|stuff|more|ones?|shows?|recommend\w*|suggest\w*)\s+"
    r"(?:just\s+|kind\s+of\s+|a\s+bit\s+)?(?:like|similar\s+to|resembling|in\s+the\s+vein\s+of)\s+(?P<x>.+)$"
    r"|^(?:similar\s+to|more\s+like)\s+(?P<y>.+)$"
    r"|\bif\s+(?:i|you)\s+(?:liked|loved|enjoyed|like|love)\s+(?P<z>.+?)(?:,|\s+what\b|\s+which\b|\s+any\b|$)",
    re.IGNORECASE,
)
_LIKE_WORDS = ("like", "similar", "resembl", "vein", "love", "enjoy")
_TRAILING = re.compile(r"(?:[\s?!.,]|\bplease\b|\bpls\b|\bplz\b|\bthanks\b)+$", re.IGNORECASE)
# "the sequel where...", "the second one", "part 2": later entries of a franchise are meant.
_SEQUEL_CUE = re.compile(
    r"\b(?:sequel|sequels|second\s+(?:one|movie|film|part)|third\s+(?:one|movie|film|part)|2nd\s+one|3rd\s+one|"
    r"part\s+(?:2|3|4|two|three|four|ii|iii|iv)|follow[\s-]?up)\b",
    re.IGNORECASE,
)


# How people say it -> how overviews say it. Only phrasings whose plain meaning is unambiguous in a film
# description; applied to what the retrievers see (the plot and the lexical text), never to the shown query.
_REWRITES = (
    (re.compile(r"\b(?:is|was|gets|got|being|becomes|became)\s+(?:knocked\s+up|expecting)\b(?!\s+to\b)", re.I),
     "is pregnant"),
    (re.compile(r"\bknocked\s+up\b", re.I), "pregnant"),
    (re.compile(r"\bexpecting\s+(?:a\s+)?(?:baby|child)\b", re.I), "pregnant"),
    (re.compile(r"\b(?:who\s+is|that\s+is|she's|who's)\s+expecting\b(?!\s+to\b)", re.I), "who is pregnant"),
    (re.compile(r"\bbun\s+in\s+the\s+oven\b", re.I), "pregnant"),
    (re.compile(r"\b(?:bumped|knocked)\s+off\b", re.I), "killed"),
    (re.compile(r"\bnuked?\b", re.I), "nuclear bomb"),
    (re.compile(r"\bcops\b", re.I), "police"),
    (re.compile(r"\bshrink\b", re.I), "psychiatrist"),
)


# Words one of the rewrites needs: most queries have none, and one search is cheaper than nine substitutions.
_REWRITE_TRIGGER = re.compile(r"expecting|knocked|\bbun\b|bumped|\bnuke|\bcops\b|\bshrink\b", re.IGNORECASE)


# Chat shorthand, spelled out for the model and the lexical index (which know "through", not "thru"); fillers
# that say nothing about a film go. Too short for the speller (core.spelling), which leaves short words alone.
_SHORTHAND = {
    "thru": "through", "u": "you", "ur": "your", "w/": "with", "w/o": "without", "bf": "boyfriend",
    "gf": "girlfriend", "cuz": "because", "coz": "because", "bc": "because", "tho": "though", "ppl": "people",
    "abt": "about", "smth": "something", "sth": "something", "govt": "government", "xmas": "christmas",
    "bday": "birthday", "lol": "", "lmao": "", "idk": "", "pls": "", "plz": "", "omg": "", "tbh": "", "imo": "",
}
_SHORTHAND_WORD = re.compile(
    r"(?<![\w/'.-])(?:" + "|".join(re.escape(w) for w in sorted(_SHORTHAND, key=len, reverse=True))
    + r")(?![\w/'-]|\.\w)",  # not inside "u-boat" or "U.S."
    re.IGNORECASE,
)


def rewrite(text: str) -> str:
    text = _SHORTHAND_WORD.sub(lambda m: _SHORTHAND[m.group(0).lower()], text)
    if _REWRITE_TRIGGER.search(text) is None:
        return " ".join(text.split())
    for pattern, replacement in _REWRITES:
        text = pattern.sub(replacement, text)
    return " ".join(text.split())


@dataclass(frozen=True, slots=True)
class QueryIntent:
    text: str
    year_range: tuple[int, int] | None = None
    plot: str = ""
    year_setting: bool = False  # the years may be when the story is set rather than when the film came out
    genres: int = 0  # a genre mask (core.genres): genres named in the query, a soft filter
    sequel: bool = False  # the query asks for a later entry of a franchise
    lexical: str = ""  # what the lexical retriever reads: the text in the catalog's words (`rewrite`)

    @property
    def lexical_text(self) -> str:
        return self.lexical or self.text

    @property
    def dense_text(self) -> str:
        """What the dense model encodes: the plot, or the whole text when nothing but framing was said."""
        return self.plot or self.text


def parse_intent(text: str) -> QueryIntent:
    plot = " ".join(_FRAME.sub(" ", _TIME_PHRASE.sub(_drop_time, text)).split()).strip(" ,;:-")
    found = _year_range(text)
    year_range, setting = found if found is not None else (None, False)
    return QueryIntent(text=text, year_range=year_range, plot=rewrite(plot), genres=query_genres(text),
                       sequel=_SEQUEL_CUE.search(text) is not None, lexical=rewrite(text), year_setting=setting)


def _drop_time(match: re.Match[str]) -> str:
    """A time phrase leaves the plot, unless it is an age ("in her 30s"), which is part of the story."""
    return match.group(0) if _AGE_BEFORE.search(match.string[: match.start()]) else " "


def similar_title(text: str) -> str | None:
    """The X of "movies like X" (still to be resolved against the catalog), or None for other queries."""
    lowered = text.lower()
    if not any(word in lowered for word in _LIKE_WORDS):
        return None
    match = _LIKE.search(text)
    if match is None:
        return None
    title = _TRAILING.sub("", next(g for g in match.groups() if g is not None)).strip(" \"'“”‘’")
    return title or None


def _year_range(text: str) -> tuple[tuple[int, int], bool] | None:
    """The years the query gives, and whether they may be the story's setting rather than the film's release."""
    lowered = text.lower()
    for pattern, to_year in (
        (_FULL_DECADE, int),
        (_SHORT_DECADE, _short_decade),
        (_WORD_DECADE, lambda word: _DECADE_WORDS[word]),
    ):
        for match in pattern.finditer(lowered):
            if _AGE_BEFORE.search(lowered[: match.start()]):
                continue
            start = to_year(match.group(1))
            return _decade_part(start, lowered[: match.start()]), _said_of_story(lowered, match)
    found = _YEAR.search(lowered)
    if found is None:
        return None
    year = int(found.group(1))
    return (year - 1, year + 1), _said_of_story(lowered, found)


def _said_of_story(lowered: str, match: re.Match[str]) -> bool:
    """False when the time phrase is said of the film: a word for a film or a genre follows it ("80s horror"),
    it opens or closes the query ("late 90s, ..."; "..., 1999"), or "from the" leads to it."""
    after = _WORDS.findall(lowered[match.end():])
    if not _FILM_CUES.isdisjoint(after[:3]) or _AFTER_WORDS.match(lowered[match.end():]):
        return False
    before = _WORDS.findall(lowered[: match.start()])
    if len(before) <= 2 and _LEAD_WORDS.issuperset(before):
        return False
    return before[-2:] != ["from", "the"] and before[-1:] not in (["from"], ["released"], ["made"])


def _short_decade(digits: str) -> int:
    value = int(digits)
    return 1900 + value if value >= 30 else 2000 + value


def _decade_part(start: int, before: str) -> tuple[int, int]:
    """'early 80s' leans to the first half, 'late 80s' to the second; both stay generous: memory is fuzzy."""
    part = _PART.search(before.rstrip())
    if part is None:
        return (start, start + 9)
    return {"early": (start, start + 5), "mid": (start + 2, start + 8), "late": (start + 4, start + 9)}[part.group(1)]
