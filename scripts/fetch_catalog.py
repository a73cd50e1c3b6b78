"""Fetch the movies catalog for an image build and check it against a sha256 (stdlib only, run before install).

usage: python fetch_catalog.py SOURCE SHA256 DEST_FILE

SOURCE is an http(s) URL, an absolute path (a file mounted into the build), or a path relative to the working
directory (a file copied from the build context's `catalog/` folder). The check accepts the sha256 of the file
as fetched or of the CSV inside it, so the seed's plain CSV and a zip of the same CSV share one pinned digest.
Exit 2 with a message saying what to fix when the source is missing or the digest differs.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import urllib.request
import zipfile
from pathlib import Path
from typing import IO

CHUNK = 1 << 20


def fetch(source: str, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.lower().startswith(("http://", "https://")):
        with urllib.request.urlopen(source, timeout=120) as response, target.open("wb") as out:
            shutil.copyfileobj(response, out, CHUNK)
    else:
        path = Path(source)
        if not path.is_file():
            raise SystemExit(f"fetch_catalog: {source} is not a file; pass MOVIES_CSV as an http(s) URL, an "
                             "absolute path mounted into the build, or a file under catalog/ in the build context")
        shutil.copyfile(path, target)
    return target


def digests(path: Path) -> set[str]:
    """The file's own sha256 and, for a zip holding one CSV, that CSV's."""
    found = {_sha256(path.open("rb"))}
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.namelist() if m.lower().endswith(".csv")]
            if len(members) == 1:
                found.add(_sha256(archive.open(members[0])))
    return found


def _sha256(stream: IO[bytes]) -> str:
    digest = hashlib.sha256()
    with stream as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    source, expected, dest = argv
    path = fetch(source, Path(dest))
    found = digests(path)
    if expected.strip().lower() not in found:
        print(f"fetch_catalog: {source} does not match MOVIES_SHA256={expected}; its sha256 is "
              f"{' or '.join(sorted(found))}. If this catalog is the one you want, build with "
              "--build-arg MOVIES_SHA256=<that value>.", file=sys.stderr)
        path.unlink()
        return 2
    print(f"fetch_catalog: {source} verified (sha256 {expected})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
