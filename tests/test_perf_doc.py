"""docs/performance.md's headline tables, rewritten from bench and eval JSON between their markers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from core.models import Movie, MovieHit, SearchResults
from scripts.bench.report import BenchReport, StackFigures, to_json
from scripts.evaluate import EvalQuery, evaluate
from scripts.perf_doc import END, START, DocError, main, rewrite, section

EVAL = {"n": 227, "recall@1": 0.8106, "recall@5": 0.9251, "recall@10": 0.9515, "mrr@10": 0.8555,
        "groups": {"famous": {"n": 114, "recall@1": 0.807, "recall@5": 0.93, "recall@10": 0.956, "mrr@10": 0.855},
                   "little-known": {"n": 113, "recall@1": 0.814, "recall@5": 0.92, "recall@10": 0.947,
                                    "mrr@10": 0.856}}}


def figures(p50: float, rss: float, qps: float, recall: float) -> StackFigures:
    return StackFigures(start_to_first_answer_s=0.43, peak_rss_mb=rss, rss_at_first_answer_mb=rss - 20,
                        p50_ms=p50, p95_ms=p50 * 1.5, p99_ms=p50 * 2, mean_ms=p50, throughput_qps=qps,
                        throughput_errors=0, installed_mb=214.0, recall_at_5_dev=recall, anon_rss_end_mb=102.5)


def bench_json() -> dict[str, Any]:
    report = BenchReport(movies=10838, latency_queries=600, dev_queries=227, throughput_queries=640,
                         concurrency=64, ours=figures(5.31, 184.2, 351.0, 0.925),
                         seed=figures(35.5, 1900.0, 35.2, 0.71), notes=["the VM is shared"])
    data = to_json(report)
    data["ours"].update(encode_floor_p50_ms=3.6, p50_over_floor=1.475)
    return data


def test_section_has_dated_serving_and_quality_tables() -> None:
    text = section(bench_json(), EVAL, date="2026-11-27", where="2 cores, 24 GB (shared VM)")
    assert text.startswith(START) and text.endswith(END)
    assert "## Headline figures (2026-11-27)" in text
    assert "Measured on 2 cores, 24 GB (shared VM), 10,838 movies" in text
    assert "| latency p50 | 5.31 ms | 35.50 ms | 6.7× | <= 5 ms: missed |" in text
    assert "| throughput | 351 queries/s | 35 queries/s | 10.0× | >= 300 q/s: met |" in text
    assert "| encoding the same queries alone, p50 | 3.60 ms |" in text
    assert "| p50 over the encoding floor | 1.48× |" in text
    assert "| all | 227 | 0.811 | 0.925 | 0.952 | 0.856 |" in text
    assert "| little-known | 113 | 0.814 | 0.920 | 0.947 | 0.856 |" in text
    assert "- the VM is shared" in text


def test_the_quality_table_reads_what_eval_writes() -> None:
    queries = [EvalQuery("a", frozenset({"tt0000001"}), "famous"), EvalQuery("b", frozenset({"tt0000002"}), "rare")]

    def search(query: str) -> SearchResults:  # finds the first query's film at rank 1, never the second's
        return SearchResults(query, (MovieHit(1, Movie("tt0000001", "A", None, ""), 0.9),), 1.0)

    report = json.loads(json.dumps(evaluate(queries, search)))
    text = section(bench_json(), report, date="2026-11-27", where="here")
    assert "| all | 2 | 0.500 | 0.500 | 0.500 | 0.500 |" in text
    assert "| famous | 1 | 1.000 | 1.000 | 1.000 | 1.000 |" in text
    assert "| rare | 1 | 0.000 | 0.000 | 0.000 | 0.000 |" in text


def test_rewrite_replaces_only_the_marked_section() -> None:
    doc = f"# Performance\n\nintro\n\n{START}\nold figures\n{END}\n\n## Scale curve\n\nkept by hand\n"
    new = rewrite(doc, f"{START}\nnew\n{END}")
    assert new == f"# Performance\n\nintro\n\n{START}\nnew\n{END}\n\n## Scale curve\n\nkept by hand\n"
    assert rewrite(new, f"{START}\nnew\n{END}") == new  # running it again changes nothing


def test_rewrite_appends_the_section_to_a_document_without_markers() -> None:
    assert rewrite("# Performance\n\nnotes\n", f"{START}\nx\n{END}") == f"# Performance\n\nnotes\n\n{START}\nx\n{END}\n"


@pytest.mark.parametrize("doc", [f"{START}\n{START}\n{END}", f"{END}\n{START}", f"{START} only"])
def test_broken_markers_are_refused(doc: str) -> None:
    with pytest.raises(DocError):
        rewrite(doc, f"{START}\n{END}")


def test_main_rewrites_the_file_and_refuses_json_of_the_wrong_kind(tmp_path: Path) -> None:
    bench, evaluation, doc = tmp_path / "bench.json", tmp_path / "eval.json", tmp_path / "performance.md"
    bench.write_text(json.dumps(bench_json()), encoding="utf-8")
    evaluation.write_text(json.dumps(EVAL), encoding="utf-8")
    doc.write_text(f"# Performance\n\n{START}\n{END}\n\n## By hand\n", encoding="utf-8")
    said: list[str] = []
    args = [str(bench), str(evaluation), "--doc", str(doc), "--date", "2026-11-27", "--machine", "here"]
    assert main(args, said.append) == 0
    text = doc.read_text(encoding="utf-8")
    assert "## Headline figures (2026-11-27)" in text and text.endswith("## By hand\n")
    assert main([str(evaluation), str(evaluation), "--doc", str(doc)], said.append) == 2
    assert "movie-bot bench --json" in said[-1]
    assert doc.read_text(encoding="utf-8") == text  # a refused input leaves the document alone
