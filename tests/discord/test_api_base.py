"""DISCORD_API_BASE redirects discord.py's REST base and gateway; unset means Discord itself."""

from __future__ import annotations

import pytest
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.discord.api_base import OFFICIAL_GATEWAY, OFFICIAL_REST_BASE, apply_api_base, emulator_urls


@pytest.mark.parametrize(
    "base, rest, gateway",
    [
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080/api/v10", "ws://127.0.0.1:8080/gateway"),
        ("https://emu.example/", "https://emu.example/api/v10", "wss://emu.example/gateway"),
        ("http://localhost:9/discord", "http://localhost:9/discord/api/v10", "ws://localhost:9/discord/gateway"),
    ],
)
def test_emulator_urls(base: str, rest: str, gateway: str) -> None:
    assert emulator_urls(base) == (rest, yarl.URL(gateway))


def test_apply_and_reset() -> None:
    apply_api_base("http://127.0.0.1:1234")
    assert Route.BASE == "http://127.0.0.1:1234/api/v10"
    assert Route("GET", "/users/@me").url == "http://127.0.0.1:1234/api/v10/users/@me"
    assert str(DiscordWebSocket.DEFAULT_GATEWAY) == "ws://127.0.0.1:1234/gateway"

    apply_api_base(None)
    assert Route.BASE == OFFICIAL_REST_BASE
    assert DiscordWebSocket.DEFAULT_GATEWAY == OFFICIAL_GATEWAY


def test_rejects_a_base_without_host() -> None:
    with pytest.raises(ValueError, match="http"):
        emulator_urls("ftp://nowhere")
