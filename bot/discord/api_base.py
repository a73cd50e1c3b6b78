"""Point discord.py at a local Discord emulator, or back at Discord itself.

discord.py keeps its REST base and gateway URL in class attributes, so the switch is process-wide; it is
applied once, before the client connects, by `bot.discord.client.build_client`.
"""

from __future__ import annotations

import logging

import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

logger = logging.getLogger(__name__)

OFFICIAL_REST_BASE = "https://discord.com/api/v10"
OFFICIAL_GATEWAY = yarl.URL("wss://gateway.discord.gg/")


def emulator_urls(api_base: str) -> tuple[str, yarl.URL]:
    """REST base (`$DISCORD_API_BASE/api/v10`) and gateway (same host, ws scheme, `/gateway`)."""
    base = yarl.URL(api_base.rstrip("/"))
    if base.scheme not in ("http", "https") or not base.host:
        raise ValueError("the Discord API base must be an http:// or https:// URL with a host")
    prefix = base.path.rstrip("/")
    rest = str(base.with_path(f"{prefix}/api/v10"))
    gateway = base.with_scheme("wss" if base.scheme == "https" else "ws").with_path(f"{prefix}/gateway")
    return rest, gateway


def apply_api_base(api_base: str | None) -> None:
    """Use the emulator at `api_base`, or Discord's own endpoints when it is None."""
    if api_base is None:
        Route.BASE = OFFICIAL_REST_BASE
        DiscordWebSocket.DEFAULT_GATEWAY = OFFICIAL_GATEWAY
        return
    rest, gateway = emulator_urls(api_base)
    Route.BASE = rest
    DiscordWebSocket.DEFAULT_GATEWAY = gateway
    logger.info("Discord API redirected to %s (gateway %s)", rest, gateway)
