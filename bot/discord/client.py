"""The discord.py client for movie-bot, its construction from settings, and a stoppable runner.

Modelled on discord.py's examples/advanced_startup.py: services come in from outside and are set up in
`setup_hook`, which runs once per login, so slash commands are synced once and never on reconnects. The
result components are persistent (`bot.discord.buttons`): registered there too, they work on messages sent
before a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import discord

from bot.discord.api_base import apply_api_base
from bot.discord.buttons import ChatServices, LikeSelect, PageButton, answer_unknown_press
from bot.discord.commands import build_movie_command, build_similar_command
from bot.discord.failures import report_failure
from bot.discord.limits import LimitedCommandTree
from core.rate_limit import RateLimiter
from core.search_guard import user_rate_limiter
from core.search_port import MovieSearch
from core.settings import Settings

logger = logging.getLogger(__name__)


class MovieBotClient(discord.Client):
    """A gateway client with `/movie` and `/similar`; needs no privileged intents."""

    def __init__(self, search: MovieSearch, guild_id: int | None, *, limiter: RateLimiter | None = None) -> None:
        super().__init__(intents=discord.Intents.none())
        self.tree = LimitedCommandTree(self, limiter)
        self.tree.error(report_failure)
        self.services = ChatServices(search)
        self._guild_id = guild_id

    async def setup_hook(self) -> None:
        self.add_dynamic_items(PageButton, LikeSelect)
        self.tree.add_command(build_movie_command(self.services.search))
        self.tree.add_command(build_similar_command(self.services.search))
        if self._guild_id is not None:
            guild = discord.Object(id=self._guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            logger.info("Synced %d slash command(s) to guild %s", len(synced), self._guild_id)
        else:
            synced = await self.tree.sync()
            logger.info("Synced %d slash command(s) globally (may take up to an hour to appear)", len(synced))

    async def on_ready(self) -> None:
        logger.info("Discord bot connected as %s", self.user)

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        await answer_unknown_press(interaction)


def build_client(settings: Settings, search: MovieSearch) -> MovieBotClient:
    """Client configured from settings; `DISCORD_API_BASE`, when set, redirects it to an emulator. `search`
    belongs to the caller, who closes it."""
    apply_api_base(settings.discord_api_base)
    return MovieBotClient(search, settings.discord_guild_id, limiter=user_rate_limiter(settings.rate_limit))


async def run_discord(client: MovieBotClient, token: str, stop: asyncio.Event) -> None:
    """Run `client` until it fails or `stop` is set, then close it cleanly. Installs no signal handlers."""
    runner = asyncio.create_task(client.start(token), name="discord-client")
    stopper = asyncio.create_task(stop.wait(), name="discord-stop")
    try:
        await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if runner.done():
            runner.result()
            return
        logger.info("Stopping the Discord bot")
    finally:
        stopper.cancel()
        if not client.is_closed():
            await client.close()
        if not runner.done():
            runner.cancel()
        # Errors raised while shutting down (a login cut short, say) are expected, not failures.
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await runner
