"""Make an index bundle lean for a serving image: drop ingest's vector cache, trim never-written page space.

The vector cache (`vectors.npy`, `vectors.json`) only lets the next ingest skip unchanged movies; nothing that
serves reads it, and a serving image never ingests.

Qdrant Edge preallocates each storage page file (`page_N.dat`: 32 MB for payloads and sparse vectors, 2 MB for
payload indexes) as a sparse file, and writes only the blocks it uses; the empty segment it keeps for appends
is nothing but such holes. On disk the holes cost nothing, but an image layer is a tar, which stores them as
zeros, most of the shard's size in the image. This truncates each page file where its last written extent
ends, as the filesystem reports it (SEEK_DATA/SEEK_HOLE), so only bytes Qdrant never wrote are dropped; Qdrant
reads a page only where its tracker says data was written. On a filesystem that does not report holes nothing
is trimmed.

usage: python -m scripts.compact_bundle BUNDLE_DIR   (a version directory, not the INDEX_PATH symlink; a copy,
       since the next ingest of this bundle would re-embed every movie)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from core.index.edge import VECTOR_KEYS_FILE, VECTORS_FILE

PAGE_FILES = "page_*.dat"
INGEST_ONLY = (VECTORS_FILE, VECTOR_KEYS_FILE)


def written_end(path: Path) -> int:
    """Offset just past the last written extent of `path` (its size when the filesystem reports no holes)."""
    size = path.stat().st_size
    fd = os.open(path, os.O_RDONLY)
    try:
        end = position = 0
        while position < size:
            try:
                data = os.lseek(fd, position, os.SEEK_DATA)
            except OSError:  # ENXIO: only a hole from here on
                break
            end = position = os.lseek(fd, data, os.SEEK_HOLE)
        return end
    except OSError:  # SEEK_DATA not supported: keep the file whole
        return size
    finally:
        os.close(fd)


def compact(bundle: Path) -> int:
    """Drop the ingest-only files and trim every page file under `bundle`'s shard; returns the bytes removed."""
    saved = 0
    for name in INGEST_ONLY:
        path = bundle / name
        if path.is_file():
            saved += path.stat().st_size
            path.unlink()
    for page in sorted((bundle / "shard").rglob(PAGE_FILES)):
        size = page.stat().st_size
        end = written_end(page)
        if end < size:
            os.truncate(page, end)
            saved += size - end
    return saved


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not (Path(argv[0]) / "shard").is_dir():
        print(__doc__, file=sys.stderr)
        return 2
    saved = compact(Path(argv[0]))
    print(f"compact_bundle: {saved / 1e6:.1f} MB of ingest-only files and never-written page space removed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
