"""Retrieval quality through the same search path the bots use: recall@1/5/10 and MRR@10."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import BadInput
from core.models import SearchResults

CUTOFFS = (1, 5, 10)


@dataclass(frozen=True, slots=True)
class EvalQuery:
    query: str
    imdb_ids: frozenset[str]
    group: str | None = None


def load_queries(path: Path) -> list[EvalQuery]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise BadInput(f"Cannot read the queries file {path}: {exc.strerror or exc}.") from None
    queries = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            ids = row["imdb_ids"]
            if not isinstance(row["query"], str) or not isinstance(ids, list) or not ids:
                raise TypeError
        except (ValueError, KeyError, TypeError):
            raise BadInput(
                f'{path}:{number}: expected {{"query": "...", "imdb_ids": ["tt..."]}} on every line.'
            ) from None
        queries.append(EvalQuery(row["query"], frozenset(map(str, ids)), row.get("group")))
    if not queries:
        raise BadInput(f"{path} has no queries.")
    return queries


def _scores(queries: Sequence[EvalQuery], ranks: Sequence[int | None]) -> dict[str, Any]:
    n = len(queries)
    out: dict[str, Any] = {"n": n}
    for k in CUTOFFS:
        out[f"recall@{k}"] = round(sum(1 for r in ranks if r is not None and r <= k) / n, 4)
    out["mrr@10"] = round(sum(1.0 / r for r in ranks if r is not None and r <= 10) / n, 4)
    return out


def evaluate(queries: Sequence[EvalQuery], search: Callable[[str], SearchResults]) -> dict[str, Any]:
    """Overall figures, plus one block per `group` when the file labels its queries."""
    ranks: list[int | None] = []
    for q in queries:
        results = search(q.query)
        ranks.append(next((h.rank for h in results.hits if h.movie.imdb_id in q.imdb_ids), None))
    report = _scores(queries, ranks)
    groups = sorted({q.group for q in queries if q.group})
    if groups:
        report["groups"] = {
            g: _scores([q for q in queries if q.group == g], [r for q, r in zip(queries, ranks, strict=True)
                                                             if q.group == g])
            for g in groups
        }
    return report


def format_report(report: dict[str, Any]) -> str:
    def line(name: str, r: dict[str, Any]) -> str:
        return (f"{name:<14} n={r['n']:<4} recall@1 {r['recall@1']:.3f}  recall@5 {r['recall@5']:.3f}  "
                f"recall@10 {r['recall@10']:.3f}  MRR@10 {r['mrr@10']:.3f}")

    lines = [line("all", report)]
    for name, r in report.get("groups", {}).items():
        lines.append(line(name, r))
    return "\n".join(lines)
