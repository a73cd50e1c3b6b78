"""The sentence max-sim experiment's pieces (scripts/experiments/sentence_vectors.py): splitting and max-sim."""

from __future__ import annotations

import numpy as np

from core.models import Movie
from scripts.experiments.sentence_vectors import PartVectors, _joined, parts, split_sentences


def _movie(overview: str, tagline: str = "") -> Movie:
    return Movie(imdb_id="tt0000001", title="A Film", year=2000, overview=overview, tagline=tagline)


def test_sentences_split_at_ends_but_not_at_abbreviations_or_initials() -> None:
    text = ("Dr. Jane Smith moves to St. Louis with her son. J. R. Ewing wants her land! "
            "Will she sell it? No. The town watches her every step.")
    assert split_sentences(text) == [
        "Dr. Jane Smith moves to St. Louis with her son.",
        "J. R. Ewing wants her land!",
        "Will she sell it?",
        "No. The town watches her every step.",  # a fragment of under MIN_WORDS words joins the next sentence
    ]


def test_a_short_last_fragment_joins_the_sentence_before() -> None:
    assert split_sentences("A farmer finds a strange stone in his field. Then, chaos.") == [
        "A farmer finds a strange stone in his field. Then, chaos."]
    assert split_sentences("") == []


def test_parts_by_kind() -> None:
    movie = _movie("One man walks into the desert. He meets a talking snake there. They become friends for life.",
                   "Never walk alone.")
    assert parts(movie, "sent") == ["One man walks into the desert.", "He meets a talking snake there.",
                                    "They become friends for life."]
    assert parts(movie, "win2") == ["One man walks into the desert. He meets a talking snake there.",
                                    "He meets a talking snake there. They become friends for life."]
    assert parts(movie, "tag") == ["Never walk alone."]
    assert parts(movie, "sent_tag")[-1] == "Never walk alone."
    assert parts(_movie("A lone sentence about a man and his dog."), "win2") == [
        "A lone sentence about a man and his dog."]
    assert parts(_movie("A lone sentence about a man and his dog."), "tag") == []


def test_title_and_card_parts_say_who_made_the_film_but_not_its_plot() -> None:
    movie = Movie("tt0467406", "Juno", 2007, "A teenager finds herself pregnant.", genres=("Comedy", "Drama"),
                  directors=("Jason Reitman",), cast=("Ellen Page", "Michael Cera", "Jennifer Garner", "J.K. Simmons"))
    assert parts(movie, "title") == ["Juno"]
    assert parts(movie, "card") == ["Juno (2007), a comedy drama film directed by Jason Reitman, starring Ellen Page, "
                                    "Michael Cera, Jennifer Garner."]
    assert parts(Movie("tt1", "Untitled", None, "Plot."), "card") == ["Untitled."]


def test_maxsim_takes_each_films_best_part_and_the_fallback_for_films_without_parts() -> None:
    vectors = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0.6, 0.8, 0]], dtype=np.float32)
    # film 0: parts 0-1; film 1: none; film 2: parts 2-3
    table = PartVectors(vectors, np.array([0, 2, 2, 4], dtype=np.int64))
    query = np.array([0.0, 1.0, 0.0], dtype=np.float32)
    got = table.maxsim([2, 1, 0], query, np.array([0.1, 0.2, 0.3]))
    np.testing.assert_allclose(got, [0.8, 0.2, 1.0], atol=1e-6)
    np.testing.assert_allclose(table.all_films(query), [1.0, -1.0, 0.8], atol=1e-6)


def test_joined_keeps_each_films_parts_together() -> None:
    a = PartVectors(np.array([[1, 0], [0, 1], [1, 1]], dtype=np.float32), np.array([0, 2, 3], dtype=np.int64))
    b = PartVectors(np.array([[5, 5]], dtype=np.float32), np.array([0, 0, 1], dtype=np.int64))
    joined = _joined(a, b)
    assert joined.offsets.tolist() == [0, 2, 4]
    assert joined.vectors.tolist() == [[1, 0], [0, 1], [1, 1], [5, 5]]
