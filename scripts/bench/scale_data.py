"""Synthetic catalogs of any size for the scale curve, made from a real bundle without running the model.

The real movies come first, unchanged; every further movie is a variant of a real one ("the base") blended
with another ("the partner"): its vector is the base's moved part of the way towards the partner's plus a
little random noise, and its text and facts mix the two the same way (the base's plot with a line of the
partner's, a sequel-like title, shifted year, shuffled cast). So the dense side sees clusters of related
films around every real one, which is harder for an approximate index than evenly spread vectors, and the
lexical side sees real words, names and document lengths.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from core.index.edge import VECTORS_FILE
from core.index.records import RECORDS_FILE
from core.models import Movie

# How far a variant moves: towards its partner by up to BLEND, plus Gaussian noise of about NOISE in norm.
BLEND = 0.35
NOISE = 0.35
SYNTHETIC_ID_BASE = 90_000_000
_TITLE_SUFFIXES = ("II", "III", "Returns", "Reloaded", "The Beginning", "Origins", "Revenge", "Legacy",
                   "Rising", "Forever", "Redemption", "Unleashed", "The Final Chapter", "Resurrection")


@dataclass(frozen=True)
class SourceCatalog:
    """A real bundle's movies and their unit vectors, row for row."""

    movies: list[Movie]
    vectors: NDArray[np.float32]

    @classmethod
    def read(cls, bundle_dir: Path) -> SourceCatalog:
        vectors = np.load(bundle_dir / VECTORS_FILE).astype(np.float32)
        with (bundle_dir / RECORDS_FILE).open(encoding="utf-8") as handle:
            movies = [Movie.from_payload(json.loads(line)) for line in handle]
        if len(movies) != len(vectors) or not movies:
            raise ValueError(f"{bundle_dir} holds {len(movies)} records and {len(vectors)} vectors")
        return cls(movies, vectors)

    def __len__(self) -> int:
        return len(self.movies)


def _unit(rows: NDArray[np.float32]) -> NDArray[np.float32]:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    unit: NDArray[np.float32] = (rows / np.clip(norms, 1e-12, None)).astype(np.float32)
    return unit


def variant_vectors(source: SourceCatalog, bases: NDArray[np.int64], partners: NDArray[np.int64],
                    rng: np.random.Generator) -> NDArray[np.float32]:
    """Unit vectors of variants: each base moved towards its partner by a random share, plus noise."""
    dim = source.vectors.shape[1]
    share = rng.uniform(0.0, BLEND, size=(len(bases), 1)).astype(np.float32)
    noise = rng.standard_normal((len(bases), dim)).astype(np.float32) * np.float32(NOISE / np.sqrt(dim))
    blended = (1 - share) * source.vectors[bases] + share * source.vectors[partners] + noise
    return _unit(blended)


def _first_sentence(text: str) -> str:
    head, dot, _ = text.partition(". ")
    return head + "." if dot else text


def variant_movie(number: int, base: Movie, partner: Movie, rng: np.random.Generator) -> Movie:
    """A plausible film made of `base` with a touch of `partner`; `number` makes its id unique."""
    suffix = _TITLE_SUFFIXES[int(rng.integers(len(_TITLE_SUFFIXES)))]
    partner_word = max(partner.title.split(), key=len, default="")
    title = f"{base.title}: {suffix}" if rng.random() < 0.6 else f"{base.title} and the {partner_word}"
    year = None if base.year is None else base.year + int(rng.integers(-6, 7))
    cast = list(base.cast)
    rng.shuffle(cast)
    cast = (cast[:4] + list(partner.cast[:1]))[:5]
    directors = base.directors if rng.random() < 0.8 else partner.directors
    keywords = tuple(dict.fromkeys(base.keywords[:4] + partner.keywords[:2]))
    genres = tuple(dict.fromkeys(base.genres + partner.genres[:1]))
    return Movie(
        imdb_id=f"tt{SYNTHETIC_ID_BASE + number}",
        title=title,
        year=year,
        overview=f"{base.overview} {_first_sentence(partner.overview)}".strip(),
        genres=genres,
        tagline=base.tagline if rng.random() < 0.5 else partner.tagline,
        keywords=keywords,
        directors=tuple(directors),
        cast=tuple(cast),
        vote_count=int(base.vote_count * rng.uniform(0.05, 1.0)),
        popularity=float(base.popularity * rng.uniform(0.05, 1.0)),
    )


def synthetic_catalog(source: SourceCatalog, size: int, *, seed: int = 0,
                      chunk: int = 10_000) -> Iterator[tuple[list[Movie], NDArray[np.float32]]]:
    """`size` movies with their unit vectors, in chunks: the real ones first, then variants. Deterministic."""
    if size < 1:
        raise ValueError("a catalog needs at least one movie")
    rng = np.random.default_rng(seed)
    real = min(size, len(source))
    for start in range(0, real, chunk):
        stop = min(start + chunk, real)
        yield source.movies[start:stop], _unit(source.vectors[start:stop])
    for start in range(real, size, chunk):
        count = min(chunk, size - start)
        bases = rng.integers(len(source), size=count)
        partners = rng.integers(len(source), size=count)
        vectors = variant_vectors(source, bases, partners, rng)
        movies = [variant_movie(start + k, source.movies[b], source.movies[p], rng)
                  for k, (b, p) in enumerate(zip(bases.tolist(), partners.tolist(), strict=True))]
        yield movies, vectors
