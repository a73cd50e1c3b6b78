"""What serve refuses before starting anything, with a message saying what to do."""

from __future__ import annotations

import importlib.util

import pytest

from bot import serve
from core.settings import Settings, load_settings


def no_console(settings: Settings) -> int:
    raise AssertionError("the console chat must not open")


def test_qdrant_url_without_the_qdrant_client_says_how_to_get_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *args: None if name == "qdrant_client" else real(name, *args))
    settings = load_settings(QDRANT_URL="https://qdrant.example.org:6333", TELEGRAM_TOKEN="1:x")
    assert serve.serve(settings, console=no_console) == 2
    assert "QDRANT_CLIENT=on" in capsys.readouterr().err


def test_no_token_without_a_terminal_exits_2(monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    settings = load_settings(TELEGRAM_TOKEN="", DISCORD_TOKEN="", SEARCH_API="off")
    assert serve.serve(settings, console=no_console) == 2
    assert "TELEGRAM_TOKEN" in capsys.readouterr().err
