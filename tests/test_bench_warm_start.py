"""The warm-start comparison's alternation and arithmetic (no processes are run here)."""

from __future__ import annotations

from typing import Any

from scripts.bench.warm_start import FIGURES, arm_order, format_summary, summarize


def _run(arm: str, pair: int, start: float, p50: float, qps: float) -> dict[str, Any]:
    return {"arm": arm, "pair": pair, "start_to_first_answer_s": start, "rss_at_first_answer_mb": 150.0,
            "peak_rss_mb": 180.0, "p50_ms": p50, "p99_ms": p50 * 2, "throughput_qps": qps}


def test_the_first_arm_turns_every_pair() -> None:
    assert [arm_order(p)[0] for p in range(4)] == ["warm", "cold", "warm", "cold"]
    assert all(set(arm_order(p)) == {"warm", "cold"} for p in range(4))


def test_medians_per_arm_and_pairs_won() -> None:
    runs = [_run("warm", 0, 0.36, 5.0, 350.0), _run("cold", 0, 0.45, 5.5, 340.0),
            _run("cold", 1, 0.50, 5.1, 360.0), _run("warm", 1, 0.38, 5.2, 355.0),
            _run("warm", 2, 0.40, 4.8, 330.0), _run("cold", 2, 0.43, 5.0, 320.0)]
    summary = summarize(runs)
    assert summary["warm"]["start_to_first_answer_s"] == 0.38
    assert summary["cold"]["p50_ms"] == 5.1
    assert summary["warm_wins"]["start_to_first_answer_s"] == 3
    assert summary["warm_wins"]["p50_ms"] == 2
    assert summary["warm_wins"]["throughput_qps"] == 2  # higher is better for throughput
    assert summary["warm_wins"]["rss_at_first_answer_mb"] == 0  # ties are not wins
    text = format_summary(summary, 3)
    assert all(figure in text for figure in FIGURES) and "3/3 pairs" in text
