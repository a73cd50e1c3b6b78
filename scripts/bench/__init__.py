"""`movie-bot bench`: our serving stack against the seed's, each measured in its own subprocess.

Nothing heavy is imported here: `python -m scripts.bench.worker` imports this package first, and the worker's
start-up time is one of the figures.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.settings import Settings


def run_bench(settings: Settings, *, as_json: bool = False, queries: int = 600) -> int:
    """Run both stacks on the same catalog and queries; print a table (or one JSON object). Exit code."""
    from scripts.bench.runner import run_bench as run

    return run(settings, as_json=as_json, queries=queries)


__all__ = ["run_bench"]
