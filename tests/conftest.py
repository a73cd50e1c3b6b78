"""Builds one real index (real model, fixture CSV) per test session; tests that change it work on copies."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.ingest import IngestReport, run_ingest
from core.settings import Settings, load_settings

FIXTURE_CSV = Path(__file__).parent / "data" / "movies_fixture.csv"
MARTIAN_QUERY = "NASA tried to rescue an astronaut stranded on Mars."


def settings_for(index_path: Path, **extra: object) -> Settings:
    values: dict[str, object] = {"INDEX_PATH": str(index_path), "QDRANT_URL": None, "MOVIES_CSV": str(FIXTURE_CSV)}
    values.update(extra)
    return load_settings(**values)


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, IngestReport]:
    root = tmp_path_factory.mktemp("built")
    report = run_ingest(settings_for(root / "index"), progress=False)
    return root, report


@pytest.fixture
def index_copy(built: tuple[Path, IngestReport], tmp_path: Path) -> Iterator[Path]:
    """A private copy of the built bundle (symlink and versions), so a test may rebuild or break it."""
    root, _ = built
    shutil.copytree(root, tmp_path / "copy", symlinks=True)
    yield tmp_path / "copy" / "index"
