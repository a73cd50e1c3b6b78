"""The image build's catalog check: one pinned sha256 accepts the CSV plain or zipped, and refuses anything else."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from scripts.fetch_catalog import main

CSV = b"id,imdb_id,original_title,overview\n1,tt3659388,The Martian,Stranded on Mars.\n"
DIGEST = hashlib.sha256(CSV).hexdigest()


@pytest.fixture
def sources(tmp_path: Path) -> dict[str, Path]:
    plain = tmp_path / "movies.csv"
    plain.write_bytes(CSV)
    zipped = tmp_path / "movies.zip"
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("tmdb-movies.csv", CSV)
    return {"plain": plain, "zipped": zipped}


@pytest.mark.parametrize("kind", ["plain", "zipped"])
def test_the_csv_digest_accepts_the_catalog_plain_or_zipped(sources: dict[str, Path], tmp_path: Path,
                                                            kind: str) -> None:
    dest = tmp_path / "out" / "movies.catalog"
    assert main([str(sources[kind]), DIGEST, str(dest)]) == 0
    assert dest.read_bytes() == sources[kind].read_bytes()


def test_another_catalog_is_refused_with_its_digest_and_not_kept(
    sources: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dest = tmp_path / "movies.catalog"
    assert main([str(sources["plain"]), "0" * 64, str(dest)]) == 2
    assert DIGEST in capsys.readouterr().err
    assert not dest.exists()


def test_a_missing_source_says_what_to_pass(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="MOVIES_CSV"):
        main([str(tmp_path / "nope.csv"), DIGEST, str(tmp_path / "movies.catalog")])
