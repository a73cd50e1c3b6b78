"""Pure measurement helpers: percentiles and the installed size of a requirement closure."""

from __future__ import annotations

import importlib.metadata as md
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

# What each stack needs installed to serve. Ours: the base dependencies of movie-bot (no extras: the `ingest`
# extra is for building the index) plus both chat frameworks. The seed: its search stack plus its bot library.
OURS_ROOTS = ("movie-bot", "python-telegram-bot", "discord.py")
SEED_ROOTS = ("sentence-transformers", "qdrant-client", "python-telegram-bot")

Finder = Callable[[str], "md.Distribution | None"]


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation between closest ranks (numpy's default)."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError("q must be within 0..100")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def installed_distribution(name: str) -> md.Distribution | None:
    try:
        return md.distribution(name)
    except md.PackageNotFoundError:
        return None


@dataclass
class ClosureSize:
    """Installed bytes per distribution of a requirement closure; `missing` lists required but absent ones."""

    sizes: dict[str, int] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.sizes.values())

    def largest(self, n: int = 5) -> list[tuple[str, int]]:
        return sorted(self.sizes.items(), key=lambda kv: (-kv[1], kv[0]))[:n]


def _requirements(dist: md.Distribution, extras: Iterable[str]) -> list[Requirement]:
    wanted = ["", *sorted(extras)]
    out = []
    for line in dist.requires or []:
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        if req.marker is None or any(req.marker.evaluate({"extra": extra}) for extra in wanted):
            out.append(req)
    return out


def distribution_size(dist: md.Distribution, counted: set[Path] | None = None) -> int:
    """Bytes of the files a distribution installed (its RECORD), each file counted once across calls."""
    total = 0
    for item in dist.files or []:
        path = Path(str(dist.locate_file(item)))
        try:
            key = path.resolve()
            if counted is not None:
                if key in counted:
                    continue
                counted.add(key)
            if path.is_file():
                total += path.stat().st_size
        except OSError:
            continue
    return total


def closure_size(roots: Iterable[str], finder: Finder = installed_distribution) -> ClosureSize:
    """Walk the requirements of `roots` (names, or requirement strings like `pkg[extra]`; markers evaluated
    for this interpreter, extras followed) and sum the installed size of every distribution reached."""
    result = ClosureSize()
    extras_seen: dict[str, set[str]] = {}
    counted: set[Path] = set()
    pending: list[tuple[str, frozenset[str]]] = []
    for root in roots:
        req = Requirement(root)
        pending.append((req.name, frozenset(req.extras)))
    dists: dict[str, md.Distribution] = {}
    while pending:
        name, extras = pending.pop()
        key = canonicalize_name(name)
        done = extras_seen.get(key)
        if done is not None and extras <= done:
            continue
        dist = dists.get(key) or finder(name)
        if dist is None:
            if key not in result.missing:
                result.missing.append(key)
            continue
        dists[key] = dist
        extras_seen[key] = (done or set()) | set(extras)
        if done is None:
            result.sizes[key] = distribution_size(dist, counted)
        for req in _requirements(dist, extras):
            pending.append((req.name, frozenset(req.extras)))
    result.missing.sort()
    return result
