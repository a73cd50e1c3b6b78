"""The benchmark's query list: the dev set first, then deterministic generated queries from the catalog."""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

WARMUP_QUERY = "a movie about a heist that goes wrong"
DEFAULT_SEED = 20240611

_ADJECTIVES = (
    "funny", "dark", "slow", "scary", "feel-good", "violent", "sad", "weird", "classic", "low-budget",
    "romantic", "tense", "quiet", "epic", "cheesy", "gritty", "heartwarming", "strange",
)
_TEMPLATES = (
    "{genre} movie about {kw}",
    "a {decade} {genre} film with {kw} and {kw2}",
    "{kw} {genre}",
    "movie where {snippet}",
    "something {adj} with {kw}, maybe from the {decade}",
    "{adj} {genre} about {kw}",
    "{genre} and {genre2} film about {kw}",
    "that {decade} film where {snippet}",
    "i'm looking for a {adj} movie, {snippet}",
    "{kw}",
)


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """What the query generator (and the seed index) needs of a kept movie."""

    imdb_id: str
    overview: str
    year: int | None = None
    genres: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()


def load_dev_queries(path: Path) -> list[tuple[str, frozenset[str]]]:
    """The dev set as (query, relevant imdb ids); blank or malformed lines are skipped."""
    out: list[tuple[str, frozenset[str]]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            query, ids = row["query"], row.get("imdb_ids", [])
        except (ValueError, KeyError, TypeError):
            continue
        if isinstance(query, str) and query.strip():
            out.append((query, frozenset(str(i) for i in ids)))
    return out


def _decade(year: int) -> str:
    decade = year - year % 10
    return f"{decade % 100:02d}s" if 1950 <= decade < 2000 else f"{decade}s"


def _snippet(overview: str, rng: random.Random) -> str:
    words = overview.split()
    if len(words) < 4:
        return ""
    text = " ".join(words[: rng.randint(6, 14)]).rstrip(".,;:!?")
    return text[:1].lower() + text[1:]


def generate_queries(entries: Sequence[CatalogEntry], n: int, seed: int = DEFAULT_SEED) -> list[str]:
    """`n` distinct short paraphrase-style queries drawn from the catalog's genres, keywords, decades and
    plots; the same entries and seed always give the same list (fewer if the catalog is too small)."""
    if n <= 0 or not entries:
        return []
    rng = random.Random(seed)
    ordered = sorted(entries, key=lambda e: e.imdb_id)
    genres = sorted({g for e in ordered for g in e.genres}) or ["drama"]
    out: list[str] = []
    seen: set[str] = set()
    attempts = 0
    while len(out) < n and attempts < n * 50:
        attempts += 1
        movie = rng.choice(ordered)
        words = movie.overview.split()[:12]
        kws = list(movie.keywords) or [w.strip(".,").lower() for w in words if len(w) > 5]
        if not kws:
            continue
        own_genres = list(movie.genres) or genres
        values = {
            "genre": rng.choice(own_genres).lower(),
            "genre2": rng.choice(genres).lower(),
            "kw": rng.choice(kws),
            "kw2": rng.choice(kws),
            "adj": rng.choice(_ADJECTIVES),
            "decade": _decade(movie.year) if movie.year else "old days",
            "snippet": _snippet(movie.overview, rng),
        }
        template = rng.choice(_TEMPLATES)
        if "{snippet}" in template and not values["snippet"]:
            continue
        query = " ".join(template.format(**values).split())
        if query.casefold() not in seen:
            seen.add(query.casefold())
            out.append(query)
    return out


def build_query_list(dev: Iterable[str], entries: Sequence[CatalogEntry], total: int,
                     seed: int = DEFAULT_SEED) -> list[str]:
    """`total` distinct queries: the dev queries first, then generated ones (never the warm-up query)."""
    out: list[str] = []
    seen = {WARMUP_QUERY.casefold()}
    for query in dev:
        if len(out) >= total:
            return out
        if query.casefold() not in seen:
            seen.add(query.casefold())
            out.append(query)
    for query in generate_queries(entries, total * 2, seed):
        if len(out) >= total:
            break
        if query.casefold() not in seen:
            seen.add(query.casefold())
            out.append(query)
    return out
