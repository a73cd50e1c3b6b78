"""The image build's bundle trimming drops only what serving never reads: the index answers as before."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from core.bootstrap import open_search_service
from core.ingest import IngestReport
from scripts.compact_bundle import compact
from tests.conftest import MARTIAN_QUERY, settings_for

pytestmark = pytest.mark.slow

QUERIES = (MARTIAN_QUERY, "a heist in a casino", "love story on a sinking ship", "toys that come alive",
           "space movies from the 90s")


def answers(index: Path) -> list[list[tuple[str, float]]]:
    with open_search_service(settings_for(index)) as service:
        return [[(hit.movie.imdb_id, hit.score) for hit in service.search_sync(q, limit=10).hits] for q in QUERIES]


def test_trimmed_bundle_is_smaller_and_answers_identically(built: tuple[Path, IngestReport], tmp_path: Path) -> None:
    root, _ = built
    bundle = tmp_path / "bundle"
    # cp keeps the holes (shutil.copytree would write them out as zeros), as the image build's `cp -a` does.
    subprocess.run(["cp", "-a", str((root / "index").resolve()), str(bundle)], check=True)
    before = answers(bundle)
    size = sum(p.stat().st_size for p in bundle.rglob("*") if p.is_file())
    saved = compact(bundle)
    assert saved > 0
    assert sum(p.stat().st_size for p in bundle.rglob("*") if p.is_file()) == size - saved
    assert answers(bundle) == before
    assert not (bundle / "vectors.npy").exists()  # ingest's cache: nothing that serves reads it
    assert not (bundle / "vectors.json").exists()
    assert compact(bundle) == 0  # nothing left to trim
