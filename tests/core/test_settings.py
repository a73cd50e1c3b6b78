"""Settings: names, defaults, sources and their order, validation, secrets that never print, light import."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from core.errors import ConfigError
from core.settings import (
    DEFAULT_MODEL,
    DEFAULT_MOVIES_CSV,
    RateLimit,
    SecretStr,
    Settings,
    env_names,
    load_settings,
)

ROOT = Path(__file__).resolve().parents[2]
ENV_EXAMPLE = ROOT / ".env.example"
ALIASES = (
    "INDEX_PATH", "QDRANT_URL", "QDRANT_API_KEY", "QDRANT_COLLECTION", "MOVIES_CSV", "EMBEDDING_MODEL",
    "QUERY_ENCODER", "TELEGRAM_TOKEN", "TELEGRAM_BASE_URL", "TELEGRAM_WEBHOOK_URL", "TELEGRAM_WEBHOOK_SECRET",
    "DISCORD_TOKEN", "DISCORD_API_BASE", "DISCORD_GUILD_ID", "LOG_LEVEL", "PORT", "SEARCH_API", "RATE_LIMIT",
    "STARTUP_RETRY_SECONDS", "MAX_QUEUED_SEARCHES", "SHUTDOWN_SECONDS",
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
    assert s.telegram_webhook_url is None and s.telegram_webhook_secret is None
    assert s.port is None and s.search_api is False
    assert s.rate_limit == RateLimit(5, 10.0)
    assert s.startup_retry_seconds == 300 and s.max_queued_searches == 64 and s.shutdown_seconds == 10


def test_the_declaration_lists_every_setting_of_the_interface_once() -> None:
    assert env_names() == list(ALIASES)


def test_env_example_lists_every_setting_with_its_default_and_a_comment() -> None:
    text = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    assignments = [(at, line) for at, line in enumerate(text) if line and not line.startswith("#")]
    assert [line.split("=", 1)[0] for _, line in assignments] == env_names()
    assert all(text[at - 1].startswith("# ") for at, _ in assignments)
    defaults = load_settings()
    shutil.copy(ENV_EXAMPLE, ".env")
    assert load_settings() == defaults


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


def test_new_settings_are_checked_and_each_problem_says_what_to_put_there() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(
            PORT="80000", SEARCH_API="maybe", RATE_LIMIT="fast", STARTUP_RETRY_SECONDS="-1",
            MAX_QUEUED_SEARCHES="0", SHUTDOWN_SECONDS="soon", TELEGRAM_WEBHOOK_URL="telegram.example/hook",
            TELEGRAM_WEBHOOK_SECRET="has spaces and $ign$",
        )
    message = caught.value.user_message
    for expected in (
        "PORT: use a whole number from 1 to 65535",
        "SEARCH_API: use on or off",
        "RATE_LIMIT: use searches per window, like 5/10s, 20/1m or 100/1h, or off",
        "STARTUP_RETRY_SECONDS: use a number of seconds, 0 or more",
        "MAX_QUEUED_SEARCHES: use a whole number of 1 or more",
        "SHUTDOWN_SECONDS: use a number of seconds, 0 or more",
        "TELEGRAM_WEBHOOK_URL: use the public https:// URL",
        "TELEGRAM_WEBHOOK_SECRET: use 1 to 256 characters",
    ):
        assert expected in message
    assert "$ign$" not in message and "has spaces" not in message


@pytest.mark.parametrize(("raw", "parsed"), [
    ("5/10s", RateLimit(5, 10.0)), ("20/1m", RateLimit(20, 60.0)), (" 100 / 1h ", RateLimit(100, 3600.0)),
    ("3/s", RateLimit(3, 1.0)), ("7/30", RateLimit(7, 30.0)), ("2/1.5S", RateLimit(2, 1.5)), ("OFF", None),
])
def test_rate_limit_forms(raw: str, parsed: RateLimit | None) -> None:
    assert load_settings(RATE_LIMIT=raw).rate_limit == parsed


@pytest.mark.parametrize("raw", ["0/10s", "5/0s", "5", "5/10d", "-1/10s", "five/10s", ""])
def test_rate_limit_rejects_what_it_cannot_read(raw: str) -> None:
    with pytest.raises(ConfigError, match="RATE_LIMIT: use searches per window"):
        load_settings(RATE_LIMIT=raw)


def test_port_switch_and_numbers_parse() -> None:
    s = load_settings(PORT=" 8080 ", SEARCH_API="ON", STARTUP_RETRY_SECONDS="2.5", MAX_QUEUED_SEARCHES="8",
                      SHUTDOWN_SECONDS="0")
    assert s.port == 8080 and s.search_api is True
    assert s.startup_retry_seconds == 2.5 and s.max_queued_searches == 8 and s.shutdown_seconds == 0
    assert load_settings(PORT="", SEARCH_API="off").port is None


def test_the_search_api_needs_a_port() -> None:
    with pytest.raises(ConfigError, match="PORT: set the port serve answers SEARCH_API's requests on"):
        load_settings(SEARCH_API="on")


def test_webhook_secret_follows_telegrams_rule_and_never_prints() -> None:
    s = load_settings(TELEGRAM_WEBHOOK_SECRET="Abc_123-xyz")
    assert s.telegram_webhook_secret == SecretStr("Abc_123-xyz")
    assert "Abc_123" not in repr(s)
    assert load_settings(TELEGRAM_WEBHOOK_SECRET="x" * 256).telegram_webhook_secret is not None
    with pytest.raises(ConfigError, match="TELEGRAM_WEBHOOK_SECRET: use 1 to 256 characters"):
        load_settings(TELEGRAM_WEBHOOK_SECRET="x" * 257)


def test_webhook_url_is_https_on_a_port_telegram_calls_unless_the_bot_api_is_self_hosted() -> None:
    s = load_settings(TELEGRAM_WEBHOOK_URL="https://bot.example/telegram", PORT="8080")
    assert s.telegram_webhook_url == "https://bot.example/telegram"
    for url in ("http://bot.example/telegram", "https://bot.example:8080/telegram"):
        with pytest.raises(ConfigError, match="TELEGRAM_WEBHOOK_URL: Telegram only calls https:// URLs"):
            load_settings(TELEGRAM_WEBHOOK_URL=url, PORT="8080")
    local = load_settings(TELEGRAM_WEBHOOK_URL="http://127.0.0.1:9000/hook", PORT="9000",
                          TELEGRAM_BASE_URL="http://127.0.0.1:8081/bot")
    assert local.telegram_webhook_url == "http://127.0.0.1:9000/hook"
    with pytest.raises(ConfigError, match="PORT: set the port serve listens on for TELEGRAM_WEBHOOK_URL"):
        load_settings(TELEGRAM_WEBHOOK_URL="https://bot.example/telegram")
    with pytest.raises(ConfigError, match="TELEGRAM_WEBHOOK_URL: use the public https:// URL"):
        load_settings(TELEGRAM_WEBHOOK_URL="https://bot.example:99999/telegram", PORT="8080")


def test_settings_are_frozen() -> None:
    s = load_settings()
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.port = 1  # type: ignore[misc]


def test_secrets_never_print_but_keep_their_value() -> None:
    s = load_settings(TELEGRAM_TOKEN="123:telegram-secret", DISCORD_TOKEN=" discord ", QDRANT_API_KEY="key")
    assert isinstance(s.telegram_token, SecretStr)
    assert s.telegram_token.get_secret_value() == "123:telegram-secret"
    assert s.discord_token is not None and s.discord_token.get_secret_value() == " discord "
    shown = f"{s!r} {s} {s.telegram_token} {s.telegram_token!r} {s.qdrant_api_key!r}"
    assert "telegram-secret" not in shown and "discord " not in shown and "'key'" not in shown
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
