"""The console chat: `/similar`, honest answers and help, through the fake search."""

from __future__ import annotations

import asyncio
import io
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bot.console import reply_to, run_console
from bot.plain_render import HELP_TEXT, render_results
from bot.reply_text import UNREADABLE, WEAK_HINT, WEAK_NOTE
from core.models import MatchQuality, SearchResults
from tests.conftest import MARTIAN_QUERY, settings_for
from tests.fakes import FakeMovieSearch

if TYPE_CHECKING:
    from core.ingest import IngestReport


@pytest.fixture
def fake() -> FakeMovieSearch:
    return FakeMovieSearch()


@pytest.fixture
def loop() -> Iterator[asyncio.Runner]:
    with asyncio.Runner() as runner:
        yield runner


def chat(line: str, fake: FakeMovieSearch, loop: asyncio.Runner) -> str | None:
    return reply_to(line, lambda q: loop.run(fake.search(q)), lambda t: loop.run(fake.similar(t)))


def test_similar_names_the_film_and_leaves_it_out(fake: FakeMovieSearch, loop: asyncio.Runner) -> None:
    answer = chat("/similar the martain", fake, loop)
    assert answer is not None
    lines = answer.splitlines()
    assert lines[0] == "Films like The Martian (2015):"
    assert lines[1].startswith("1. ") and "The Martian" not in answer.split("\n", 1)[1]
    assert fake.similar_calls == [("the martain", 5, 0)]


def test_similar_without_a_title_or_with_an_unknown_one(fake: FakeMovieSearch, loop: asyncio.Runner) -> None:
    assert chat("/similar   ", fake, loop) == "Name a film you liked, for example: /similar The Martian"
    assert "could not find a film" in (chat("/similar zzyzx qwv", fake, loop) or "")
    assert fake.similar_calls == [("zzyzx qwv", 5, 0)]


def test_similar_is_declined_politely_where_it_is_not_wired(fake: FakeMovieSearch) -> None:
    answer = reply_to("/similar Alien", lambda q: asyncio.run(fake.search(q)))
    assert answer is not None and "not available" in answer


def test_help_lists_similar() -> None:
    assert "/similar <title>" in HELP_TEXT
    written: list[str] = []
    run_console(lambda q: SearchResults(q, (), 0.0), ["/help", "/quit", "/help"], written.append)
    assert written[1] == HELP_TEXT and len(written) == 2


def test_weak_and_unreadable_answers_are_honest(fake: FakeMovieSearch, loop: asyncio.Runner) -> None:
    fake.quality = MatchQuality.WEAK
    weak = chat("/movie astronaut", fake, loop) or ""
    assert weak.splitlines()[0] == f"Movies for “astronaut”. {WEAK_NOTE}"
    assert weak.splitlines()[-1] == WEAK_HINT and "1. " in weak
    fake.quality = MatchQuality.UNREADABLE
    assert chat("/movie 电影 火星 救援", fake, loop) == UNREADABLE


def test_no_more_films_like_says_so(fake: FakeMovieSearch, loop: asyncio.Runner) -> None:
    page = loop.run(fake.similar("Alien", offset=40))
    assert render_results(page) == "No films like Alien (1979) found."


def test_the_chat_command_answers_from_the_built_index_while_it_warms_up(
    built: tuple[Path, IngestReport], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot import cli

    root, _ = built
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"/movie {MARTIAN_QUERY}\n/similar the martian\n"))
    assert cli._chat(settings_for(root / "index")) == 0  # returns once the warm-up has stopped, too
    search_reply, similar_reply = capsys.readouterr().out.split("Films like ", 1)
    assert "1. The Martian (2015)" in search_reply
    assert similar_reply.startswith("The Martian (2015):") and "1. " in similar_reply
