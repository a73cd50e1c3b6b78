"""Catalog loading: row rules, mojibake repair, and a clear BadInput for every kind of bad source."""

from __future__ import annotations

import re
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from core.catalog import (
    BAD_LINE,
    DUPLICATE_IMDB_ID,
    MALFORMED_IMDB_ID,
    NO_IMDB_ID,
    NO_OVERVIEW,
    NO_TITLE,
    PLACEHOLDER_OVERVIEW,
    CatalogLoad,
    load_catalog,
    repair_text,
)
from core.errors import BadInput
from core.models import Movie
from tests.real_catalog import SKIP_REASON, real_catalog

FIXTURE = Path(__file__).parent / "data" / "movies_fixture.csv"
MOJIBAKE = re.compile("Ã|Â|â€")
HEADER = "imdb_id,original_title,overview"
REAL_FILE = real_catalog()


@pytest.fixture(scope="module")
def fixture_load() -> CatalogLoad:
    return load_catalog(str(FIXTURE))


def by_id(load: CatalogLoad) -> dict[str, Movie]:
    return {movie.imdb_id: movie for movie in load.movies}


def write(tmp_path: Path, text: str, name: str = "movies.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def assert_no_mojibake(movies: list[Movie]) -> None:
    damaged = [m.imdb_id for m in movies if MOJIBAKE.search(m.title) or MOJIBAKE.search(m.overview)]
    assert damaged == []


# --- the fixture, end to end -------------------------------------------------------------------------------


def test_fixture_counts_every_row_under_one_reason(fixture_load: CatalogLoad) -> None:
    report = fixture_load.report
    assert report.rows_read == 34
    assert report.kept == len(fixture_load.movies) == 25
    assert report.dropped == {
        BAD_LINE: 2,
        DUPLICATE_IMDB_ID: 1,
        PLACEHOLDER_OVERVIEW: 2,
        NO_OVERVIEW: 1,
        NO_IMDB_ID: 1,
        MALFORMED_IMDB_ID: 1,
        NO_TITLE: 1,
    }
    assert report.kept + sum(report.dropped.values()) == report.rows_read
    # WALL·E, Suite Française, She's Funny That Way, Merry Kissmas, Extinction, Watchmen, and the cast of
    # The Martian (Michael Peña) and Gravity (Alfonso Cuarón).
    assert report.repaired == 8
    assert report.numbers_defaulted == 2


def test_report_lines_name_each_figure(fixture_load: CatalogLoad) -> None:
    text = "\n".join(fixture_load.report.lines())
    assert "rows read: 34" in text
    assert "kept: 25" in text
    assert f"dropped, {PLACEHOLDER_OVERVIEW}: 2" in text
    assert "repaired (mojibake fixed): 8" in text


def test_the_martian_is_loaded_with_every_field(fixture_load: CatalogLoad) -> None:
    martian = by_id(fixture_load)["tt3659388"]
    assert martian.title == "The Martian"
    assert martian.year == 2015
    assert martian.genres == ("Drama", "Adventure", "Science Fiction")
    assert martian.directors == ("Ridley Scott",)
    assert martian.cast == ("Matt Damon", "Jessica Chastain", "Kristen Wiig", "Jeff Daniels", "Michael Peña")
    assert martian.tagline == "Bring Him Home"
    assert "mars" in martian.keywords
    assert martian.vote_count == 4572
    assert martian.popularity == pytest.approx(7.6674)
    assert martian.overview.startswith("During a manned mission to Mars")


def test_fixture_has_no_mojibake_left(fixture_load: CatalogLoad) -> None:
    assert MOJIBAKE.search(FIXTURE.read_text(encoding="utf-8"))  # the fixture really is damaged
    assert_no_mojibake(fixture_load.movies)
    for movie in fixture_load.movies:
        for text in (movie.tagline, *movie.genres, *movie.keywords, *movie.directors, *movie.cast):
            assert not MOJIBAKE.search(text), (movie.imdb_id, text)


def test_mojibake_is_repaired_in_every_shown_text(fixture_load: CatalogLoad) -> None:
    movies = by_id(fixture_load)
    suite = movies["tt0900387"]
    assert suite.title == "Suite Française"
    assert "villagers’ own homes" in suite.overview
    assert "Bruno von Falk — the refined officer" in suite.overview
    assert movies["tt0910970"].title == "WALL·E"
    assert movies["tt0910970"].overview.startswith("WALL·E is the last robot")
    assert movies["tt1767372"].title == "She’s Funny That Way"
    assert "“Dustin”." in movies["tt5210380"].overview  # a lost byte after â€
    assert movies["tt3467412"].directors == ("Miguel Ángel Vivas",)  # a lost byte after Ã
    assert movies["tt0409459"].cast[0] == "Malin Åkerman"  # a sequence ftfy leaves alone


def test_correct_text_is_left_as_it_is(fixture_load: CatalogLoad) -> None:
    spirited = by_id(fixture_load)["tt0245429"]
    assert spirited.title == "千と千尋の神隠し"
    assert spirited.tagline == "Chihiro’s journey"  # curly quotes kept
    assert by_id(fixture_load)["tt0112384"].tagline == '"Houston, we have a problem."'


def test_quotes_and_commas_inside_fields_survive(fixture_load: CatalogLoad) -> None:
    contact = by_id(fixture_load)["tt0118884"]
    assert contact.tagline == "If we are alone in the universe, it sure seems like an awful waste of space."


def test_white_space_is_normalised(fixture_load: CatalogLoad) -> None:
    moon = by_id(fixture_load)["tt1182345"]
    assert "contract, Sam Bell is getting anxious to finally return" in moon.overview
    assert "facility, along with" in moon.overview
    assert '"GERTY".' in moon.overview


def test_lists_are_split_stripped_and_cast_capped(fixture_load: CatalogLoad) -> None:
    movies = by_id(fixture_load)
    assert movies["tt0133093"].directors == ("Lilly Wachowski", "Lana Wachowski")
    assert movies["tt0120591"].cast == ("Bruce Willis", "Ben Affleck", "Billy Bob Thornton", "Liv Tyler",
                                        "Owen Wilson")
    # The source says `Fantasy| Adventure ||Animation`.
    assert movies["tt0245429"].genres == ("Fantasy", "Adventure", "Animation")


def test_bad_numbers_become_defaults(fixture_load: CatalogLoad) -> None:
    gattaca = by_id(fixture_load)["tt0119177"]
    assert (gattaca.vote_count, gattaca.popularity, gattaca.year) == (0, 0.0, 1997)
    assert by_id(fixture_load)["tt0245429"].vote_count == 3011  # `3,011`


def test_year_falls_back_to_release_date_then_none(fixture_load: CatalogLoad) -> None:
    movies = by_id(fixture_load)
    assert movies["tt0120201"].year == 1997  # release_year blank, release_date 11/6/97
    assert movies["tt0245429"].year is None


def test_first_of_an_exact_duplicate_is_kept(fixture_load: CatalogLoad) -> None:
    assert [m.imdb_id for m in fixture_load.movies].count("tt0411951") == 1


def test_dropped_rows_are_absent(fixture_load: CatalogLoad) -> None:
    ids = set(by_id(fixture_load))
    assert not ids & {"tt0274155", "tt0177789", "tt0117731", "tt030747", "tt0100802", "tt1000001"}
    assert all(re.fullmatch(r"tt\d{7,8}", i) for i in ids)


# --- row rules, one at a time ------------------------------------------------------------------------------


def test_required_columns_alone_are_enough(tmp_path: Path) -> None:
    load = load_catalog(write(tmp_path, f"{HEADER}\ntt0000001,A Film,Something happens.\n"))
    assert load.movies == [Movie("tt0000001", "A Film", None, "Something happens.")]
    assert load.report.dropped == {}


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (",A Film,Plot.", NO_IMDB_ID),
        ("   ,A Film,Plot.", NO_IMDB_ID),
        ("nm0000001,A Film,Plot.", MALFORMED_IMDB_ID),
        ("tt123456,A Film,Plot.", MALFORMED_IMDB_ID),
        ("tt123456789,A Film,Plot.", MALFORMED_IMDB_ID),
        ("tt0000001,,Plot.", NO_TITLE),
        ("tt0000001,A Film,", NO_OVERVIEW),
        ('tt0000001,A Film," \t "', NO_OVERVIEW),
        ("tt0000001,A Film,No overview found.", PLACEHOLDER_OVERVIEW),
        ("tt0000001,A Film,  NO OVERVIEW FOUND  ", PLACEHOLDER_OVERVIEW),
        ("tt0000001,A Film,n/a", PLACEHOLDER_OVERVIEW),
        ("tt0000001,A Film,Not available", PLACEHOLDER_OVERVIEW),
        ("tt0000001,A Film,...", PLACEHOLDER_OVERVIEW),
        ("tt0000001,A Film", BAD_LINE),
        ("tt0000001,A Film,Plot.,extra", BAD_LINE),
    ],
)
def test_each_row_rule(tmp_path: Path, row: str, reason: str) -> None:
    load = load_catalog(write(tmp_path, f"{HEADER}\n{row}\ntt0000002,Kept,A plot.\n"))
    assert [m.imdb_id for m in load.movies] == ["tt0000002"]
    assert load.report.dropped == {reason: 1}
    assert load.report.rows_read == 2


def test_eight_digit_imdb_ids_are_valid(tmp_path: Path) -> None:
    load = load_catalog(write(tmp_path, f"{HEADER}\ntt10000001,New Film,A plot.\n"))
    assert [m.imdb_id for m in load.movies] == ["tt10000001"]


def test_duplicate_keeps_the_first_usable_row(tmp_path: Path) -> None:
    rows = "tt0000001,First,No overview found.\ntt0000001,Second,A plot.\ntt0000001,Third,Another plot.\n"
    load = load_catalog(write(tmp_path, f"{HEADER}\n{rows}"))
    assert [m.title for m in load.movies] == ["Second"]
    assert load.report.dropped == {PLACEHOLDER_OVERVIEW: 1, DUPLICATE_IMDB_ID: 1}


@pytest.mark.parametrize(
    ("release_year", "release_date", "year"),
    [
        ("2015", "", 2015),
        ("2015.0", "", 2015),
        ("", "6/9/15", 2015),
        ("", "6/9/66", 1966),
        ("", "1999-03-30", 1999),
        ("abc", "3/30/99", 1999),
        ("12", "", None),
        ("", "someday", None),
        ("", "", None),
    ],
)
def test_year_rules(tmp_path: Path, release_year: str, release_date: str, year: int | None) -> None:
    csv_text = f"{HEADER},release_year,release_date\ntt0000001,A Film,A plot.,{release_year},{release_date}\n"
    assert load_catalog(write(tmp_path, csv_text)).movies[0].year == year


@pytest.mark.parametrize(
    ("vote_count", "popularity", "expected"),
    [("12", "1.5", (12, 1.5)), ("x", "nan", (0, 0.0)), ("-3", "-1", (0, 0.0)), ("1e3", "inf", (1000, 0.0))],
)
def test_number_rules(tmp_path: Path, vote_count: str, popularity: str, expected: tuple[int, float]) -> None:
    csv_text = f"{HEADER},vote_count,popularity\ntt0000001,A Film,A plot.,{vote_count},{popularity}\n"
    movie = load_catalog(write(tmp_path, csv_text)).movies[0]
    assert (movie.vote_count, movie.popularity) == expected


def test_header_white_space_and_bom_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeff imdb_id , original_title,overview \ntt0000001,A Film,A plot.\n".encode())
    assert len(load_catalog(str(path)).movies) == 1


def test_windows_1252_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "cp1252.csv"
    path.write_bytes(f"{HEADER}\ntt0000001,Amélie,A plot.\n".encode("cp1252"))
    assert load_catalog(str(path)).movies[0].title == "Amélie"


@pytest.mark.parametrize(
    ("damaged", "repaired"),
    [
        ("Suite FranÃ§aise", "Suite Française"),
        ("Sheâ€™s Funny That Way", "She’s Funny That Way"),
        ("Belli di papÃ\xa0", "Belli di papà"),
        ("Marina AbramoviÄ‡", "Marina Abramović"),
        ("Jonas Ã…kerlund", "Jonas Åkerlund"),
        ("Ãlvaro", "Álvaro"),
        ("caterer â€œDustinâ€.", "caterer “Dustin”."),
        ("AliceÂ's", "Alice's"),
        ("Blinkyâ„¢", "Blinky™"),
        ("ì‹ ì˜ í•œ ìˆ˜", "\ufffd \ufffd 한 수"),
        ("loneliness &amp; starvation", "loneliness & starvation"),
    ],
)
def test_repair_text(damaged: str, repaired: str) -> None:
    assert repair_text(damaged) == repaired


@pytest.mark.parametrize(
    "text", ["Die Straße“ und", "„FÜR ELISE“", "CAFÉ»", "ESPAÑA—", "Åsa", "São Paulo", "WALL·E", "Chihiro’s"]
)
def test_repair_text_leaves_correct_text_alone(text: str) -> None:
    assert repair_text(text) == text


# --- bad input ---------------------------------------------------------------------------------------------


def bad_input(source: str, **kwargs: int) -> str:
    with pytest.raises(BadInput) as caught:
        load_catalog(source, **kwargs)
    assert caught.value.exit_code == 2
    return caught.value.user_message


def test_missing_file(tmp_path: Path) -> None:
    assert "not found" in bad_input(str(tmp_path / "nope.csv"))


def test_folder(tmp_path: Path) -> None:
    assert "folder" in bad_input(str(tmp_path))


@pytest.mark.parametrize("content", ["", "\n\n  \n"])
def test_empty_file(tmp_path: Path, content: str) -> None:
    assert "empty" in bad_input(write(tmp_path, content))


def test_header_only(tmp_path: Path) -> None:
    assert "no movie rows" in bad_input(write(tmp_path, f"{HEADER}\n"))


def test_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "movies.csv"
    path.write_bytes(bytes(range(256)) * 8)
    assert "not a CSV" in bad_input(str(path))


def test_html_page(tmp_path: Path) -> None:
    assert "HTML" in bad_input(write(tmp_path, "<!doctype html><html><body>Not found</body></html>"))


def test_missing_columns_are_named(tmp_path: Path) -> None:
    message = bad_input(write(tmp_path, "imdb_id,title,plot\ntt0000001,A Film,A plot.\n"))
    assert "column(s) original_title, overview;" in message


def test_duplicate_column_names(tmp_path: Path) -> None:
    assert "could not be read as CSV" in bad_input(write(tmp_path, f"{HEADER},overview\ntt0000001,A,B,C\n"))


def test_zip_is_read(tmp_path: Path) -> None:
    path = tmp_path / "movies.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(FIXTURE, "tmdb-movies.csv")
    load = load_catalog(str(path))
    assert load.report.kept == 25
    assert "tt3659388" in by_id(load)


def test_zip_without_csv(tmp_path: Path) -> None:
    path = tmp_path / "movies.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "no csv here")
    assert "no .csv" in bad_input(str(path))


def test_zip_with_several_csvs(tmp_path: Path) -> None:
    path = tmp_path / "movies.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.csv", f"{HEADER}\n")
        archive.writestr("b.csv", f"{HEADER}\n")
    assert "several CSV files (a.csv, b.csv)" in bad_input(str(path))


def test_damaged_zip(tmp_path: Path) -> None:
    path = tmp_path / "movies.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(FIXTURE, "tmdb-movies.csv")
    data = bytearray(path.read_bytes())
    data[40:200] = bytes(160)  # the compressed CSV, not the directory at the end
    path.write_bytes(bytes(data))
    assert "damaged" in bad_input(str(path))


def test_file_too_large(tmp_path: Path) -> None:
    assert "larger than" in bad_input(str(FIXTURE), max_bytes=1000)


# --- http(s) -----------------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    routes: ClassVar[dict[str, tuple[int, bytes]]] = {}

    def do_GET(self) -> None:
        if self.path == "/moved":
            self.send_response(302)
            self.send_header("Location", "/movies.csv")
            self.end_headers()
            return
        status, body = self.routes.get(self.path, (404, b"not found"))
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet."""


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    _Handler.routes = {"/movies.csv": (200, FIXTURE.read_bytes()), "/broken": (500, b"oops")}
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_url_is_downloaded(server: str) -> None:
    load = load_catalog(f"{server}/movies.csv")
    assert load.report.kept == 25
    assert by_id(load)["tt0900387"].title == "Suite Française"


def test_url_redirect_is_followed(server: str) -> None:
    assert load_catalog(f"{server}/moved").report.kept == 25


@pytest.mark.parametrize(("path", "status"), [("/missing.csv", "404"), ("/broken", "500")])
def test_url_error_status(server: str, path: str, status: str) -> None:
    assert f"HTTP {status}" in bad_input(f"{server}{path}")


def test_url_too_large(server: str) -> None:
    assert "larger than" in bad_input(f"{server}/movies.csv", max_bytes=1000)


def test_url_secrets_stay_out_of_messages(server: str) -> None:
    message = bad_input(f"{server}/missing.csv?token=s3cret")
    assert "s3cret" not in message
    assert "/missing.csv" in message


def test_no_source() -> None:
    assert "MOVIES_CSV" in bad_input("  ")


@pytest.mark.parametrize("url", ["http://127.0.0.1:port/movies.csv", "https://", "http://exa mple.com/x.csv"])
def test_invalid_url(url: str) -> None:
    assert "Could not reach" in bad_input(url)


def test_unreachable_url() -> None:
    assert "Could not reach http://127.0.0.1:9/" in bad_input("http://127.0.0.1:9/movies.csv")


# --- the real catalog, when present ------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.skipif(REAL_FILE is None, reason=SKIP_REASON)
def test_real_catalog() -> None:
    assert REAL_FILE is not None
    load = load_catalog(str(REAL_FILE))
    report = load.report
    assert report.rows_read == 10_866
    assert report.kept + sum(report.dropped.values()) == report.rows_read
    assert report.dropped[DUPLICATE_IMDB_ID] >= 1
    assert report.dropped[PLACEHOLDER_OVERVIEW] >= 13
    assert report.dropped[NO_IMDB_ID] >= 1
    assert report.repaired >= 1_000
    assert_no_mojibake(load.movies)
    movies = by_id(load)
    assert movies["tt3659388"].title == "The Martian"
    assert movies["tt0900387"].title == "Suite Française"
