"""Experiment (issue 15): does the best match of the query among a film's overview sentences rank better?

    INDEX_PATH=data/index python -m scripts.experiments.sentence_vectors [--cache /tmp/sentences] [--kinds ...]
        [--columns both scaled raw] [--seeds 1 2 3 4 5]

Hypothesis: one vector for a whole overview blurs it, while people describe one part of a film ("one scene",
"the ending"). So each film also gets vectors of its parts, and a candidate's new signal is the best cosine between
the query and any of its parts (max-sim), as the fit sees `dense`: scaled between the weakest and the best
candidate (`<kind>`) and raw (`<kind>_raw`). The parts tried (`KINDS`):
- `sent`: each sentence of the overview (fragments of under `MIN_WORDS` words joined to the next);
- `win2`: overlapping windows of two consecutive sentences (the one sentence of a one-sentence overview);
- `tag`: the tagline alone;
- `sent_tag` / `win2_tag`: sentences or windows, plus the tagline;
- `title`: the title alone, and `card`: title, year, genres, director and leading cast with no plot (`card`):
  what the model may know of a famous film by name, which its overview (often a line or two) does not say.
A film with no parts (no tagline, for `tag`) takes its whole-document cosine.

The part vectors are computed once with the bundle's ONNX encoder and cached in `--cache` as .npy (vectors,
L2-normalised, and n + 1 row offsets in the bundle's row order; delete the cache for another bundle). Serving is
not touched: the candidates are those of the real search path and the fit is `scripts.fit_ranking`'s (pairwise
ranking SVM, cross-validated by film on the dev split; the test split only scored), with the new columns
appended.

It also tries max-sim as a further retriever (the top k films by max-sim over every part of the catalog) and
prints how often the film would then be among the candidates. The figures are in eval/README.md.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

import core.ranking
import scripts.fit_ranking as fitting
from core.bootstrap import open_search_service
from core.embedding.port import TextEncoder
from core.index.edge import EdgeMovieIndex
from core.models import Movie
from core.search_service import SearchService
from core.settings import load_settings
from scripts.evaluate import EvalQuery, load_queries
from scripts.experiments import experiment_parser

KINDS = ("sent", "win2", "tag", "sent_tag", "win2_tag", "title", "card")
# A "sentence" of fewer words is joined to the next one ("Dr.", "No.", initials, "Part one.").
MIN_WORDS = 4
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")
_ABBREVIATION = re.compile(r"(?:\b(?:Mr|Mrs|Ms|Dr|St|Jr|Sr|Lt|Sgt|Capt|Col|Gen|Prof|Rev|vs|Mt|Ft|No)|\b[A-Z])\.$")
RETRIEVER_DEPTHS = (20, 60)


def split_sentences(text: str) -> list[str]:
    """The overview's sentences, an abbreviation or initial ("Dr.", "J.") not taken for an end."""
    pieces = [p.strip() for p in _SENTENCE_END.split(text.strip()) if p.strip()]
    out: list[str] = []
    carry = ""
    for piece in pieces:
        joined = f"{carry} {piece}".strip()
        if _ABBREVIATION.search(joined) or len(joined.split()) < MIN_WORDS:
            carry = joined
            continue
        out.append(joined)
        carry = ""
    if carry:
        if out:
            out[-1] = f"{out[-1]} {carry}"
        else:
            out.append(carry)
    return out


def card(movie: Movie) -> str:
    """What a film reference would say of it: title, year, genres, director and leading cast, no plot."""
    text = movie.title
    if movie.year:
        text += f" ({movie.year})"
    if movie.genres:
        text += ", a " + " ".join(g.lower() for g in movie.genres[:3]) + " film"
    if movie.directors:
        text += " directed by " + " and ".join(movie.directors[:2])
    if movie.cast:
        text += ", starring " + ", ".join(movie.cast[:3])
    return text + "."


def parts(movie: Movie, kind: str) -> list[str]:
    if kind == "title":
        return [movie.title]
    if kind == "card":
        return [card(movie)]
    if kind == "tag":
        return [movie.tagline.strip()] if movie.tagline.strip() else []
    sentences = split_sentences(movie.overview)
    if kind.startswith("win2"):
        sentences = [" ".join(sentences[i : i + 2]) for i in range(max(1, len(sentences) - 1))] if sentences else []
    if kind.endswith("_tag") and movie.tagline.strip():
        sentences.append(movie.tagline.strip())
    return sentences


@dataclass(frozen=True, slots=True)
class PartVectors:
    """Every film's part vectors (unit length), film r's being rows offsets[r]:offsets[r + 1]."""

    vectors: NDArray[np.float32]
    offsets: NDArray[np.int64]

    def maxsim(self, rows: Sequence[int], query: NDArray[np.float32], fallback: NDArray[np.float64]
               ) -> NDArray[np.float64]:
        """Per film row, the best cosine of `query` with its parts; `fallback` for films with none."""
        starts, ends = self.offsets[list(rows)], self.offsets[np.asarray(rows) + 1]
        counts = ends - starts
        out = np.array(fallback, dtype=np.float64)
        have = np.flatnonzero(counts > 0)
        if len(have) == 0:
            return out
        # Every part of those films in one gather: part k of the j-th film is row starts[j] + k.
        sizes = counts[have]
        firsts = np.cumsum(sizes) - sizes
        take = np.arange(int(sizes.sum())) + np.repeat(starts[have] - firsts, sizes)
        sims = np.asarray(self.vectors[take] @ query, dtype=np.float64)
        out[have] = np.maximum.reduceat(sims, firsts)
        return out

    def all_films(self, query: NDArray[np.float32]) -> NDArray[np.float64]:
        """Max-sim for every film of the catalog (-1 for films with no parts)."""
        sims = self.vectors @ query
        out = np.full(len(self.offsets) - 1, -1.0)
        counts = np.diff(self.offsets)
        have = np.flatnonzero(counts > 0)
        out[have] = np.maximum.reduceat(sims, self.offsets[:-1][have])
        return out


def part_vectors(movies: Sequence[Movie], encoder: TextEncoder, kind: str, cache: Path) -> PartVectors:
    """The parts of `kind` ("sent", "win2", "tag" or "<kind>_tag"), read from `cache` or encoded there; "_tag"
    kinds are joined from the cached vectors of their two halves."""
    if kind.endswith("_tag"):
        return _joined(part_vectors(movies, encoder, kind.removesuffix("_tag"), cache),
                       part_vectors(movies, encoder, "tag", cache))
    vectors_path, offsets_path = cache / f"{kind}.npy", cache / f"{kind}.offsets.npy"
    if vectors_path.is_file() and offsets_path.is_file():
        return PartVectors(np.load(vectors_path), np.load(offsets_path))
    texts: list[str] = []
    offsets = [0]
    for movie in movies:
        texts += parts(movie, kind)
        offsets.append(len(texts))
    started = time.perf_counter()
    vectors = encoder.encode(texts, batch_size=32).astype(np.float32)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    print(f"{kind}: {len(texts)} parts of {len(movies)} films encoded in {time.perf_counter() - started:.0f} s")
    cache.mkdir(parents=True, exist_ok=True)
    np.save(vectors_path, vectors)
    np.save(offsets_path, np.array(offsets, dtype=np.int64))
    return PartVectors(vectors, np.array(offsets, dtype=np.int64))


def _joined(a: PartVectors, b: PartVectors) -> PartVectors:
    """Each film's parts of `a` followed by its parts of `b`."""
    counts = np.diff(a.offsets) + np.diff(b.offsets)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    order = np.concatenate([np.concatenate([np.arange(a.offsets[r], a.offsets[r + 1]),
                                            len(a.vectors) + np.arange(b.offsets[r], b.offsets[r + 1])])
                            for r in range(len(counts))]).astype(np.int64)
    return PartVectors(np.vstack([a.vectors, b.vectors])[order], offsets)


@dataclass(frozen=True, slots=True)
class Collected:
    rows: list[fitting.QueryRows]
    films: list[list[int]]  # each candidate's row in the bundle
    vectors: NDArray[np.float32]  # the queries' vectors, unit length


def collect(service: SearchService, queries: list[EvalQuery]) -> tuple[Collected, list[Movie]]:
    """The fit's rows (the real search path), plus what max-sim needs, and every film of the bundle."""
    index = service.index
    if not isinstance(index, EdgeMovieIndex):
        raise SystemExit("this experiment reads an embedded bundle (unset QDRANT_URL)")
    facts = index.catalog_facts()
    row_of = {f.imdb_id: r for r, f in enumerate(facts)}
    rows, films, found = [], [], []
    for row, _, vector in fitting.candidate_rows(service, queries):
        rows.append(row)
        films.append([row_of[i] for i in row.ids])
        found.append(vector)
    vectors = np.array(found, dtype=np.float32).reshape(len(found), -1)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return Collected(rows, films, vectors), index.movies([f.imdb_id for f in facts])


def with_maxsim(data: Collected, parts_: PartVectors, columns: str) -> list[fitting.QueryRows]:
    """The rows with max-sim columns appended: "both" (scaled and raw), "scaled" or "raw"."""
    out = []
    for r, films, q in zip(data.rows, data.films, data.vectors, strict=True):
        raw = parts_.maxsim(films, q, r.features[:, 1])
        low, best = float(raw.min()), float(raw.max())
        scaled = (raw - low) / ((best - low) or 1.0)
        extra = {"both": [scaled, raw], "scaled": [scaled], "raw": [raw]}[columns]
        out.append(replace(r, features=np.column_stack([r.features, *extra])))
    return out


@contextlib.contextmanager
def features_named(names: tuple[str, ...]) -> Iterator[None]:
    """The fit with `names` as its features (the new ones start at weight 0 in the hand-set weights)."""
    saved = core.ranking.FEATURES, getattr(fitting, "FEATURES")  # noqa: B009
    setattr(core.ranking, "FEATURES", names)  # noqa: B010 - a scratch patch of a module constant
    setattr(fitting, "FEATURES", names)  # noqa: B010
    try:
        yield
    finally:
        setattr(core.ranking, "FEATURES", saved[0])  # noqa: B010
        setattr(fitting, "FEATURES", saved[1])  # noqa: B010


def cross_validated(dev: list[fitting.QueryRows], folds: int, seed: int | None = None) -> list[int | None]:
    """Every dev query's rank under the weights of the fold that did not see its film; the folds are
    `scripts.fit_ranking`'s, or with `seed` another split by film (GroupKFold shuffled)."""
    from sklearn.model_selection import GroupKFold

    groups = [sorted(r.query.imdb_ids)[0] for r in dev]
    ranks: list[int | None] = [None] * len(dev)
    splitter = GroupKFold(n_splits=folds, shuffle=seed is not None, random_state=seed)
    for train, held in splitter.split(np.zeros(len(dev)), groups=groups):
        w = fitting.fit([dev[i] for i in train])
        for i, rank in zip(held, fitting.ranks([dev[i] for i in held], w), strict=True):
            ranks[i] = rank
    return ranks


def report(name: str, dev: list[fitting.QueryRows], test: list[fitting.QueryRows], folds: int,
           features: tuple[str, ...], seeds: Sequence[int] = ()) -> list[int | None]:
    """Prints the dev cross-validated and test figures (and dev MRR@10 over the other splits `seeds`, their mean
    a steadier figure than one split's); returns the ranks (dev cross-validated, then test)."""
    groups = ("famous", "little-known")
    with features_named(features):
        cv = cross_validated(dev, folds)
        final = fitting.fit(dev)
        on_test = fitting.ranks(test, final)
        other = [fitting.figures(dev, None, cross_validated(dev, folds, seed)) for seed in seeds]
    print(f"== {name}")
    print("  " + fitting.line("dev cv", {g: f for g, f in fitting.figures(dev, None, cv).items() if g in groups}))
    if other:
        cells = []
        for g in groups:
            each = [float(f[g]["mrr@10"]) for f in other]
            cells.append(f"{g} {np.mean(each):.3f} (" + " ".join(f"{m:.3f}" for m in each) + ")")
        print(f"  dev cv, {len(other)} other splits by film, MRR@10 mean (each): " + "  ".join(cells))
    print("  " + fitting.line("test", {g: f for g, f in fitting.figures(test, None, on_test).items() if g in groups}))
    print("  weights: " + ", ".join(f"{n} {v:+.3f}" for n, v in zip(features, final, strict=True)))
    return cv + on_test


def compare(name: str, before: Sequence[int | None], after: Sequence[int | None], styles: Sequence[str]) -> None:
    """Queries ranked better / worse (dev cross-validated and test together), and MRR@10 by query style."""
    def rr(rank: int | None) -> float:
        return 1.0 / rank if rank is not None and rank <= 10 else 0.0

    better = sum(1 for b, a in zip(before, after, strict=True) if rr(a) > rr(b))
    worse = sum(1 for b, a in zip(before, after, strict=True) if rr(a) < rr(b))
    cells = []
    for style in sorted(set(styles)):
        sel = [k for k, s in enumerate(styles) if s == style]
        cells.append(f"{style} ({len(sel)}) {sum(rr(before[k]) for k in sel) / len(sel):.3f} -> "
                     f"{sum(rr(after[k]) for k in sel) / len(sel):.3f}")
    print(f"  {name}: MRR@10 up for {better} queries, down for {worse}; by style: " + "; ".join(cells))


def query_styles(path: Path) -> list[str]:
    """Each query's `style` (issue 15's queries; "issue 5" for the older ones), in `load_queries` order."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [str(row.get("style", "issue 5")) for row in rows]


def retriever_recall(name: str, data: Collected, parts_: PartVectors, fact_ids: Sequence[str]) -> None:
    """Share of queries whose film is among the candidates, and among them plus max-sim's top k."""
    for group in ("famous", "little-known"):
        sel = [k for k, r in enumerate(data.rows) if r.query.group == group]
        have = sum(1 for k in sel if data.rows[k].target.any())
        cells = [f"candidates {have / len(sel):.3f}"]
        for depth in RETRIEVER_DEPTHS:
            found = 0
            for k in sel:
                r = data.rows[k]
                if r.target.any():
                    found += 1
                    continue
                top = np.argpartition(-parts_.all_films(data.vectors[k]), depth)[:depth]
                found += any(fact_ids[int(row)] in r.query.imdb_ids for row in top)
            cells.append(f"+ max-sim top {depth} {found / len(sel):.3f}")
        print(f"  {name} {group} (n={len(sel)}): " + ", ".join(cells))


def main() -> int:
    parser = experiment_parser(__doc__)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/sentences"))
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=KINDS)
    parser.add_argument("--columns", nargs="+", default=["both", "scaled", "raw"], choices=["both", "scaled", "raw"])
    args = parser.parse_args()

    started = time.perf_counter()
    dev_queries, test_queries = load_queries(args.dev), load_queries(args.test)
    with open_search_service(load_settings()) as service:
        both, movies = collect(service, dev_queries + test_queries)
        fact_ids = [f.imdb_id for f in service.index.catalog_facts()]
        cut = len(dev_queries)
        dev = Collected(both.rows[:cut], both.films[:cut], both.vectors[:cut])
        test = Collected(both.rows[cut:], both.films[cut:], both.vectors[cut:])
        print(f"candidates collected in {time.perf_counter() - started:.0f} s")
        base = core.ranking.FEATURES
        styles = query_styles(args.dev) + query_styles(args.test)
        before = report("before (the shipped features)", dev.rows, test.rows, args.folds, base, args.seeds)
        for kind in args.kinds:
            vectors = part_vectors(movies, service.encoder, kind, args.cache)
            for columns in args.columns:
                names = {"both": (kind, f"{kind}_raw"), "scaled": (kind,), "raw": (f"{kind}_raw",)}[columns]
                after = report(f"+ {kind} ({columns})", with_maxsim(dev, vectors, columns),
                               with_maxsim(test, vectors, columns), args.folds, base + names, args.seeds)
                compare(f"{kind} ({columns})", before, after, styles)
            retriever_recall(f"{kind} dev", dev, vectors, fact_ids)
            retriever_recall(f"{kind} test", test, vectors, fact_ids)
    print(json.dumps({"elapsed_s": round(time.perf_counter() - started)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
