"""The on-disk index bundle and its atomic swap.

`INDEX_PATH` is a symlink to one version directory under a hidden sibling folder. A build writes a new version
directory, and publishing replaces the symlink with `os.replace` (atomic on POSIX): a process killed at any
moment leaves the previous version answering, and the next build cleans up what the killed one left.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

from core.errors import BadInput, IndexUnavailable
from core.index.manifest import MANIFEST_FILE

logger = logging.getLogger(__name__)

BUILDING_SUFFIX = ".building"
ENCODER_DIR = "encoder"
KEEP_PREVIOUS = 1


class BundleStore:
    def __init__(self, index_path: Path) -> None:
        self.index_path = index_path.expanduser().absolute()
        self.versions = self.index_path.parent / f".{self.index_path.name}.versions"

    def live_dir(self) -> Path | None:
        """The directory currently answering, or None when nothing has been built yet."""
        path = self.index_path
        if path.is_dir() and (path / MANIFEST_FILE).is_file():
            return path.resolve()
        return None

    def require_live(self) -> Path:
        live = self.live_dir()
        if live is None:
            raise IndexUnavailable(
                f"No movie index at {self.index_path} yet. Build it with `movie-bot ingest` "
                "(or set INDEX_PATH to where it lives)."
            )
        return live

    @contextlib.contextmanager
    def build_lock(self) -> Iterator[None]:
        """One build at a time: two concurrent ingests would race on the swap."""
        if self.index_path.exists() and not self.index_path.is_symlink():
            # Publishing replaces INDEX_PATH with a link; a real folder there is not ours to replace.
            raise BadInput(
                f"{self.index_path} is a folder, not a movie-bot index link: move it away, or set INDEX_PATH "
                "to another place, then run `movie-bot ingest` again."
            )
        self.versions.mkdir(parents=True, exist_ok=True)
        with (self.versions / ".lock").open("w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise BadInput("Another ingest is already building this index; wait for it to finish.") from None
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def new_build_dir(self) -> Path:
        """A fresh directory for a build; leftovers of killed builds are removed first (we hold the lock)."""
        self.versions.mkdir(parents=True, exist_ok=True)
        for stale in self.versions.glob(f"*{BUILDING_SUFFIX}"):
            logger.info("removing unfinished build %s", stale.name)
            shutil.rmtree(stale, ignore_errors=True)
        name = time.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}{BUILDING_SUFFIX}"
        path = self.versions / name
        path.mkdir()
        return path

    def publish(self, build_dir: Path) -> Path:
        """Make `build_dir` the live version with one atomic rename of a symlink."""
        final = build_dir.with_name(build_dir.name.removesuffix(BUILDING_SUFFIX))
        build_dir.rename(final)
        _fsync_dir(self.versions)
        tmp_link = self.index_path.with_name(f".{self.index_path.name}.link-{os.getpid()}")
        tmp_link.unlink(missing_ok=True)
        tmp_link.symlink_to(os.path.relpath(final, self.index_path.parent))
        tmp_link.replace(self.index_path)
        _fsync_dir(self.index_path.parent)
        self._prune(keep=final)
        return final

    def discard(self, build_dir: Path) -> None:
        shutil.rmtree(build_dir, ignore_errors=True)

    def _prune(self, keep: Path) -> None:
        """Keep the live version and the one before it (a running bot may still have it open)."""
        done = sorted(
            (p for p in self.versions.iterdir() if p.is_dir() and not p.name.endswith(BUILDING_SUFFIX)),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        old = [p for p in done if p != keep][KEEP_PREVIOUS:]
        for path in old:
            shutil.rmtree(path, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
