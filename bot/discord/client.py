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
from collections.abc import Callable

import discord
import yarl
from discord.http import Route

from bot.discord.api_base import apply_api_base
from bot.discord.buttons import ChatServices, LikeSelect, PageButton, answer_unknown_press
from bot.discord.commands import build_movie_command, build_similar_command
from bot.discord.failures import report_failure
from bot.discord.limits import LimitedCommandTree
from bot.startup import Stopped, retry_at_startup
from core.rate_limit import RateLimiter
from core.search_guard import user_rate_limiter
from core.search_port import MovieSearch
from core.settings import Settings

logger = logging.getLogger(__name__)

# How discord.py names the tasks that run a slash command or a component press (app_commands/tree.py,
# ui/view.py; the persistent items of bot.discord.buttons run as dynamic-item tasks): at shutdown, serve lets
# the ones in flight finish before the HTTP session closes under them.
IN_FLIGHT_TASK_PREFIXES = ("CommandTree-invoker", "discord-ui-view-dispatch-", "discord-ui-modal-dispatch-",
                           "discord-ui-dynamic-item-")
PROBE_TIMEOUT_SECONDS = 15.0

class MovieBotClient(discord.Client):
    """A gateway client with `/movie` and `/similar`; needs no privileged intents."""

    def __init__(self, search: MovieSearch, guild_id: int | None, *, limiter: RateLimiter | None = None) -> None:
        super().__init__(intents=discord.Intents.none())
        self.tree = LimitedCommandTree(self, limiter)
        self.tree.error(report_failure)
        self.services = ChatServices(search, limiter=limiter)
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


def unreachable(error: BaseException) -> bool:
    return isinstance(error, OSError | TimeoutError)


async def probe_discord() -> None:
    """Open (and close) a TCP connection to Discord's API host: proves it is reachable before logging in.

    Retrying `client.login` itself would leave discord.py with a closed connector and the command tree half set
    up, so the retry stays outside the client; a bare connection sends nothing Discord would count."""
    url = yarl.URL(Route.BASE)
    host, port = url.host or "discord.com", url.port or 443
    async with asyncio.timeout(PROBE_TIMEOUT_SECONDS):
        _, writer = await asyncio.open_connection(host, port)
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()


async def run_discord(
    client: MovieBotClient,
    token: str,
    stop: asyncio.Event,
    *,
    startup_retry_seconds: float = 0.0,
    drain_seconds: float = 10.0,
    report: Callable[[str], None] = lambda state: None,
) -> None:
    """Run `client` until it fails or `stop` is set, then close it cleanly. Installs no signal handlers.

    Discord unreachable at start is retried for `startup_retry_seconds`. On stop, slash commands and clicks
    already running get up to `drain_seconds` to send their reply before the connection closes. `report` hears
    "retrying", "ready" and "stopped"."""
    try:
        await retry_at_startup(probe_discord, what="Discord", unreachable=unreachable,
                               budget_seconds=startup_retry_seconds, stop=stop, on_retry=lambda: report("retrying"))
    except Stopped:
        report("stopped")
        return

    async def report_when_ready() -> None:
        await client.wait_until_ready()
        report("ready")

    async def start() -> None:
        await client.login(token)
        ready = asyncio.create_task(report_when_ready(), name="discord-ready")
        try:
            await client.connect()
        finally:
            ready.cancel()

    runner = asyncio.create_task(start(), name="discord-client")
    stopper = asyncio.create_task(stop.wait(), name="discord-stop")
    try:
        await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if runner.done():
            runner.result()
            return
        logger.info("Stopping the Discord bot")
        await _drain(drain_seconds)
    finally:
        stopper.cancel()
        if not client.is_closed():
            await client.close()
        if not runner.done():
            runner.cancel()
        # Errors raised while shutting down (a login cut short, say) are expected, not failures.
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await runner
        report("stopped")


async def _drain(seconds: float) -> None:
    """Wait, at most `seconds`, for the interactions in flight (and any that start meanwhile) to finish."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while busy := [t for t in asyncio.all_tasks() if t.get_name().startswith(IN_FLIGHT_TASK_PREFIXES)]:
        left = deadline - loop.time()
        if left <= 0:
            logger.warning("%d Discord interaction(s) still running after %.0f s; closing anyway", len(busy), seconds)
            return
        logger.info("Waiting for %d Discord interaction(s) in flight to reply", len(busy))
        await asyncio.wait(busy, timeout=left)
