"""The memory-limit bench's cgroup handling, on a fake cgroup file system (the real one needs root)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scripts.bench.memory_limit import CgroupUnavailable, LimitRun, MemoryCgroup, format_runs


def test_v2_caps_memory_and_swap_and_reads_oom_kills(tmp_path: Path) -> None:
    (tmp_path / "cgroup.controllers").write_text("cpu io memory pids\n")
    group = MemoryCgroup.create("bench", 256 * 1024 * 1024, root=tmp_path)
    assert group.v2 and group.directory == tmp_path / "bench"
    assert (group.directory / "memory.max").read_text() == str(256 * 1024 * 1024)
    assert (group.directory / "memory.swap.max").read_text() == "0"
    group.enter()
    assert (group.directory / "cgroup.procs").read_text() == str(os.getpid())
    (group.directory / "memory.events").write_text("low 0\nhigh 0\nmax 12\noom 2\noom_kill 2\n")
    assert group.oom_kills() == 2
    assert group.peak_bytes() is None  # kernels before 5.19 have no memory.peak


def test_v1_caps_memory_and_swap_where_swap_accounting_exists(tmp_path: Path) -> None:
    (tmp_path / "memory" / "bench").mkdir(parents=True)
    (tmp_path / "memory" / "bench" / "memory.memsw.limit_in_bytes").write_text("9223372036854771712")
    group = MemoryCgroup.create("bench", 200 * 1024 * 1024, root=tmp_path)
    assert not group.v2
    for name in ("memory.limit_in_bytes", "memory.memsw.limit_in_bytes"):
        assert (group.directory / name).read_text() == str(200 * 1024 * 1024)
    (group.directory / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 1\n")
    (group.directory / "memory.max_usage_in_bytes").write_text(str(150 * 1024 * 1024))
    assert group.oom_kills() == 1
    assert group.peak_bytes() == 150 * 1024 * 1024


def test_no_memory_controller_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CgroupUnavailable):
        MemoryCgroup.create("bench", 1, root=tmp_path)


def test_the_report_shows_a_killed_run_and_an_undropped_cache() -> None:
    text = format_runs([LimitRun(256, True, 0, 250.0, 8.2, 18.5, 197.0),
                        LimitRun(120, False, 3, failure="The ours stack failed (exit code -9):")], False)
    assert "256 MB       yes          0" in text
    assert "120 MB        no          3" in text and "exit code -9" in text
    assert "flatter" in text
