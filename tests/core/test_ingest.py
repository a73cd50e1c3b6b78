"""Ingest end to end on the fixture with the real model: counts, incremental re-runs, atomic swap, bad input."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from bot.cli import main
from core.bootstrap import build_search_service, open_search_service
from core.errors import IndexMismatch, IndexUnavailable
from core.index.bundle import BundleStore
from core.index.manifest import SCHEMA_VERSION, IndexManifest
from core.ingest import IngestReport, run_ingest
from tests.conftest import FIXTURE_CSV, MARTIAN_QUERY, settings_for

pytestmark = pytest.mark.slow


def top_ids(index_path: Path, query: str, k: int = 5) -> list[str]:
    with open_search_service(settings_for(index_path)) as service:
        return [h.movie.imdb_id for h in service.search_sync(query, limit=k).hits]


def rewrite_fixture(dest: Path, *, drop: str | None = None, change: str | None = None) -> Path:
    """A copy of the fixture, row for row (its corrupt rows included), with one row dropped or changed."""
    with FIXTURE_CSV.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    id_col, overview_col = header.index("imdb_id"), header.index("overview")
    out = [header]
    for row in rows[1:]:
        if len(row) > id_col and row[id_col] == drop:
            continue
        if len(row) > overview_col and row[id_col] == change:
            row = [*row]
            row[overview_col] += " Later, a second expedition returns to the planet."
        out.append(row)
    with dest.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(out)
    return dest


def test_first_ingest_counts_every_reason_and_answers(built: tuple[Path, IngestReport]) -> None:
    root, report = built
    kept = report.catalog.kept
    assert report.embedded == kept > 10
    assert report.unchanged == 0
    assert report.catalog.rows_read > kept
    assert report.catalog.dropped, "the fixture has defective rows that must be counted"
    assert report.encoder == "exported and verified"
    assert report.parity["min_cosine"] >= 0.9999
    assert "tt3659388" in top_ids(root / "index", MARTIAN_QUERY)


def test_repaired_titles_are_shown_correctly(built: tuple[Path, IngestReport]) -> None:
    root, _ = built
    with open_search_service(settings_for(root / "index")) as service:
        hits = service.search_sync("French wartime romance during the German occupation", limit=10).hits
    titles = [h.movie.title for h in hits]
    assert "Suite Française" in titles
    for hit in hits:
        for text in (hit.movie.title, hit.movie.overview):
            assert not any(seq in text for seq in ("Ã", "Â", "â€")), text


def test_rerun_on_same_data_embeds_nothing(index_copy: Path) -> None:
    before = top_ids(index_copy, MARTIAN_QUERY)
    report = run_ingest(settings_for(index_copy), progress=False, encoder_factory=_no_model)
    assert report.embedded == 0
    assert report.unchanged == report.catalog.kept
    assert report.encoder.startswith("reused")
    assert top_ids(index_copy, MARTIAN_QUERY) == before


def test_a_bundle_of_an_older_format_is_rebuilt_reusing_its_vectors_but_not_its_encoder(index_copy: Path) -> None:
    live = BundleStore(index_copy).require_live()
    replace(IndexManifest.read(live), schema_version=1).write(live)
    with pytest.raises(IndexMismatch, match="movie-bot ingest"):
        build_search_service(settings_for(index_copy))
    report = run_ingest(settings_for(index_copy), progress=False)
    assert report.embedded == 0
    assert report.encoder == "exported and verified"
    assert IndexManifest.read(BundleStore(index_copy).require_live()).schema_version == SCHEMA_VERSION
    assert top_ids(index_copy, MARTIAN_QUERY)[0] == "tt3659388"


def test_changed_rows_are_reembedded_and_removed_rows_deleted(index_copy: Path, tmp_path: Path) -> None:
    csv_path = rewrite_fixture(tmp_path / "changed.csv", drop="tt0816692", change="tt3659388")
    report = run_ingest(settings_for(index_copy), str(csv_path), progress=False)
    assert (report.embedded, report.removed) == (1, 1)
    ids = top_ids(index_copy, "explorers travel through a wormhole to find a new home for humanity", k=20)
    assert "tt0816692" not in ids


def test_a_failed_build_leaves_the_live_index_answering(index_copy: Path, tmp_path: Path) -> None:
    store = BundleStore(index_copy)
    live_before = store.live_dir()
    before = top_ids(index_copy, MARTIAN_QUERY)
    csv_path = rewrite_fixture(tmp_path / "changed.csv", change="tt3659388")
    with pytest.raises(RuntimeError, match="model exploded"):
        run_ingest(settings_for(index_copy), str(csv_path), progress=False, encoder_factory=_exploding_model)
    assert store.live_dir() == live_before
    assert top_ids(index_copy, MARTIAN_QUERY) == before
    assert not list(store.versions.glob("*.building"))


def test_a_killed_ingest_leaves_the_live_index_and_the_next_run_succeeds(index_copy: Path, tmp_path: Path) -> None:
    store = BundleStore(index_copy)
    live_before = store.live_dir()
    before = top_ids(index_copy, MARTIAN_QUERY)
    csv_path = rewrite_fixture(tmp_path / "changed.csv", change="tt3659388")
    env = os.environ | {"INDEX_PATH": str(index_copy), "QDRANT_URL": "", "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "ingest", "--csv", str(csv_path)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not list(store.versions.glob("*.building")) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    time.sleep(0.5)  # inside the build: catalog read, model loading or embedding
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert store.live_dir() == live_before
    assert top_ids(index_copy, MARTIAN_QUERY) == before
    report = run_ingest(settings_for(index_copy), str(csv_path), progress=False)
    assert report.embedded == 1
    assert not list(store.versions.glob("*.building"))
    assert store.live_dir() != live_before


@pytest.mark.parametrize(
    ("content", "suffix", "message"),
    [
        (None, ".csv", "not found"),
        (b"", ".csv", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00binary", ".csv", "CSV"),
        (b"title,overview\nA,B\n", ".csv", "imdb_id"),
    ],
)
def test_bad_input_exits_2_with_one_message_and_leaves_the_index(
    index_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    content: bytes | None, suffix: str, message: str,
) -> None:
    path = tmp_path / f"input{suffix}"
    if content is not None:
        path.write_bytes(content)
    live_before = BundleStore(index_copy).live_dir()
    monkeypatch.setenv("INDEX_PATH", str(index_copy))
    monkeypatch.delenv("QDRANT_URL", raising=False)
    assert main(["ingest", "--csv", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert message.lower() in err.lower()
    assert len(err.splitlines()) == 1
    assert BundleStore(index_copy).live_dir() == live_before


def test_unreachable_url_exits_2(index_copy: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("INDEX_PATH", str(index_copy))
    assert main(["ingest", "--csv", "http://127.0.0.1:9/movies.csv"]) == 2
    assert "127.0.0.1" in capsys.readouterr().err


def test_another_model_is_refused_with_a_clear_message(built: tuple[Path, IngestReport]) -> None:
    root, _ = built
    settings = settings_for(root / "index", EMBEDDING_MODEL="sentence-transformers/paraphrase-MiniLM-L3-v2")
    with pytest.raises(IndexMismatch, match="EMBEDDING_MODEL"):
        build_search_service(settings)


def test_missing_index_says_how_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(IndexUnavailable, match="movie-bot ingest"):
        build_search_service(settings_for(tmp_path / "nothing-here"))


def _no_model(name: str, progress: bool) -> object:
    raise AssertionError("an unchanged catalog must not load the model")


def _exploding_model(name: str, progress: bool) -> object:
    raise RuntimeError("model exploded")
