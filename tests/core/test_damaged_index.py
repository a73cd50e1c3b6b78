"""A missing or damaged index bundle fails with one clear message naming the fix, `movie-bot ingest`, both
from the service builder and from the command line (exit code 1, no traceback on the terminal)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from core.bootstrap import build_search_service
from core.errors import IndexUnavailable, MovieBotError
from tests.conftest import settings_for

pytestmark = pytest.mark.slow


def _garble(path: Path) -> None:
    path.write_bytes(b"\x00not what was written\xff" * 3)


def _truncate_all(folder: Path) -> None:
    for file in folder.rglob("*"):
        if file.is_file():
            file.write_bytes(b"")


DAMAGE: dict[str, Callable[[Path], None]] = {
    "manifest garbled": lambda live: _garble(live / "manifest.json"),
    "manifest cut short": lambda live: (live / "manifest.json").write_text('{"model_name": "x"', encoding="utf-8"),
    "shard deleted": lambda live: shutil.rmtree(live / "shard"),
    "shard files emptied": lambda live: _truncate_all(live / "shard"),
    "encoder model garbled": lambda live: [_garble(f) for f in (live / "encoder").glob("*.onnx")],
    "encoder deleted": lambda live: shutil.rmtree(live / "encoder"),
}


def test_a_missing_folder_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(IndexUnavailable, match="movie-bot ingest"):
        build_search_service(settings_for(tmp_path / "nothing-here"))


@pytest.mark.parametrize("damage", list(DAMAGE), ids=list(DAMAGE))
def test_a_damaged_bundle_names_the_fix(index_copy: Path, damage: str) -> None:
    DAMAGE[damage](index_copy.resolve())
    with pytest.raises(MovieBotError, match="movie-bot ingest") as caught:
        build_search_service(settings_for(index_copy)).close()
    assert "Traceback" not in caught.value.user_message


def test_the_command_line_says_it_plainly(index_copy: Path, tmp_path: Path) -> None:
    DAMAGE["manifest garbled"](index_copy.resolve())
    env = {"INDEX_PATH": str(index_copy), "QDRANT_URL": "", "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1",
           "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run([sys.executable, "-m", "bot.cli", "search", "astronaut on Mars"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1
    assert "movie-bot ingest" in done.stderr
    assert done.stderr.strip().splitlines()[-1].endswith("Rebuild it with `movie-bot ingest`.")
    assert "Traceback" not in done.stderr
