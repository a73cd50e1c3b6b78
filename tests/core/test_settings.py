"""Settings: names, defaults, sources and their order, validation, secrets that never print, light import."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from core.errors import ConfigError
from core.settings import DEFAULT_MODEL, DEFAULT_MOVIES_CSV, SecretStr, Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
ALIASES = (
    "INDEX_PATH", "QDRANT_URL", "QDRANT_API_KEY", "QDRANT_COLLECTION", "MOVIES_CSV", "EMBEDDING_MODEL",
    "QUERY_ENCODER", "TELEGRAM_TOKEN", "TELEGRAM_BASE_URL", "DISCORD_TOKEN", "DISCORD_API_BASE",
    "DISCORD_GUILD_ID", "LOG_LEVEL",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No setting from the machine running the tests, and no `.env` but the test's own."""
    for name in ALIASES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.chdir(tmp_path)


def test_defaults_follow_the_interface() -> None:
    s = load_settings()
    assert s.index_path == Path("./data/index")
    assert s.qdrant_url is None and s.qdrant_api_key is None
    assert s.qdrant_collection == "movies"
    assert s.movies_csv == DEFAULT_MOVIES_CSV == "https://hongtaoh.com/files/tmdb-movies.csv"
    assert s.embedding_model == DEFAULT_MODEL == "sentence-transformers/all-MiniLM-L6-v2"
    assert s.query_encoder == "onnx"
    assert s.telegram_token is None and s.telegram_base_url is None
    assert s.discord_token is None and s.discord_api_base is None and s.discord_guild_id is None
    assert s.log_level == "INFO"


def test_overrides_beat_the_environment_which_beats_dotenv(monkeypatch: pytest.MonkeyPatch) -> None:
    Path(".env").write_text(
        'QDRANT_COLLECTION=from_file\nexport MOVIES_CSV="/data/movies.csv"\nLOG_LEVEL=debug\nLEFT_ALONE\n'
        "UNKNOWN_NAME=ignored\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("LOG_LEVEL", "warning")
    monkeypatch.setenv("qdrant_collection", "from_env")  # names are matched case-insensitively
    s = Settings(QDRANT_COLLECTION="from_override")
    assert s.qdrant_collection == "from_override"
    assert s.log_level == "WARNING"
    assert s.movies_csv == "/data/movies.csv"
    assert load_settings().qdrant_collection == "from_env"


def test_blank_optional_values_are_unset_and_urls_lose_trailing_slashes() -> None:
    s = load_settings(
        QDRANT_URL="  ", TELEGRAM_TOKEN="", DISCORD_GUILD_ID=" ", DISCORD_API_BASE="http://127.0.0.1:9/",
        TELEGRAM_BASE_URL="https://api.example/bot//", INDEX_PATH=Path("/srv/index"),
    )
    assert s.qdrant_url is None and s.telegram_token is None and s.discord_guild_id is None
    assert s.discord_api_base == "http://127.0.0.1:9"
    assert s.telegram_base_url == "https://api.example/bot"
    assert s.index_path == Path("/srv/index")


@pytest.mark.parametrize(("raw", "parsed"), [("123", 123), (" 42 ", 42), ("1_000", 1000), ("12.0", 12), (7, 7)])
def test_guild_id_is_an_integer(raw: object, parsed: int) -> None:
    assert load_settings(DISCORD_GUILD_ID=raw).discord_guild_id == parsed


def test_every_invalid_value_is_named_in_one_error() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(
            QDRANT_URL="ftp://qdrant", QDRANT_COLLECTION="two words", QUERY_ENCODER="ONNX", LOG_LEVEL="verbose",
            DISCORD_GUILD_ID="12.5", MOVIES_CSV=None, TELEGRAM_TOKEN="still-valid",
        )
    message = caught.value.user_message
    assert message.startswith("Invalid settings; fix these environment variables (or .env): ")
    for expected in (
        "QDRANT_URL: must start with http:// or https://",
        "QDRANT_COLLECTION: use letters, digits, '-' and '_' only",
        "QUERY_ENCODER: Input should be 'onnx' or 'sentence-transformers'",
        "LOG_LEVEL: Input should be 'DEBUG', 'INFO', 'WARNING', 'ERROR' or 'CRITICAL'",
        "DISCORD_GUILD_ID: Input should be a valid integer",
        "MOVIES_CSV: Input should be a valid string",
    ):
        assert expected in message
    assert "TELEGRAM_TOKEN" not in message and "still-valid" not in message


def test_secrets_never_print_but_keep_their_value() -> None:
    s = load_settings(TELEGRAM_TOKEN="123:telegram-secret", DISCORD_TOKEN=" discord ", QDRANT_API_KEY="key")
    assert isinstance(s.telegram_token, SecretStr)
    assert s.telegram_token.get_secret_value() == "123:telegram-secret"
    assert s.discord_token is not None and s.discord_token.get_secret_value() == " discord "
    shown = f"{s!r} {s} {s.telegram_token} {s.telegram_token!r} {s.qdrant_api_key!r}"
    assert "secret" not in shown and "discord " not in shown and "'key'" not in shown
    assert repr(s.telegram_token) == "SecretStr('**********')"
    assert s.telegram_token == SecretStr("123:telegram-secret") != SecretStr("other")
    assert load_settings(TELEGRAM_TOKEN=s.telegram_token).telegram_token == s.telegram_token


def test_loading_settings_imports_neither_pydantic_nor_dotenv_without_a_dotenv_file(tmp_path: Path) -> None:
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r})\n"
        "from core.settings import load_settings; load_settings()\n"
        "import json; print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} "
        "& {'pydantic', 'pydantic_core', 'pydantic_settings', 'dotenv'})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
