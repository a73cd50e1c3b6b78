"""CPU counting that respects CPU affinity (containers often pin fewer cores than the host has)."""

from __future__ import annotations

import os


def available_cpus() -> int:
    """How many CPUs this process may run on, at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)
