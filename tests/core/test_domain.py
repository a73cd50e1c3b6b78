"""The ports and the domain data hold only types and plain values: reading them loads no index engine or model
runtime."""

from __future__ import annotations

from core.domain import Candidates, in_order, movie_facts, point_id
from core.models import Movie
from tests.embedding.probe import heavy_modules_after

ENGINES = ("qdrant_edge", "qdrant_client", "onnxruntime")


def test_probe_sees_an_engine_when_it_is_imported() -> None:
    assert heavy_modules_after("import qdrant_edge", ENGINES) == ["qdrant_edge"]


def test_ports_domain_and_ranking_import_no_engine() -> None:
    code = "import core.domain, core.ranking, core.index.port, core.embedding.port, core.search_port"
    assert heavy_modules_after(code, ENGINES) == []


def test_movie_facts_fold_titles_and_names() -> None:
    facts = movie_facts({"imdb_id": "tt0900387", "title": "Suite Française", "year": 2014, "vote_count": 7,
                         "director": ["Saul Dibb"], "cast": ["Michelle Williams"]})
    assert facts.title_line == " suite francaise "
    assert facts.names == ("saul dibb", "michelle williams")
    assert facts.surnames == ("dibb", "williams")
    assert (facts.year, facts.vote_count) == (2014, 7)


def test_candidates_keep_rows_aligned() -> None:
    a, b = movie_facts({"imdb_id": "tt1"}), movie_facts({"imdb_id": "tt2"})
    cands = Candidates.of([(a, 0.5, 0.0), (b, 0.25, 3.0)])
    assert len(cands) == 2
    assert [f.imdb_id for f in cands.facts] == ["tt1", "tt2"]
    assert cands.dense.tolist() == [0.5, 0.25]
    assert cands.sparse.tolist() == [0.0, 3.0]


def test_point_ids_are_stable_across_builds() -> None:
    # Server collections written by earlier builds keep these ids: the derivation must not change.
    assert point_id("tt3659388") == point_id("tt3659388") != point_id("tt0816692")
    assert point_id("tt3659388") == "f149315f-d365-582c-be4d-7bbdf1f131c5"


def test_in_order_follows_the_ids_asked_and_drops_unknown_ones() -> None:
    movies = [Movie("tt2", "B", None, "b"), Movie("tt1", "A", None, "a")]
    assert [m.imdb_id for m in in_order(["tt1", "tt9", "tt2"], movies)] == ["tt1", "tt2"]
