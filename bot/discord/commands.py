"""The `/movie` and `/similar` slash commands, built around a ready search service (nothing is created at
import time)."""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands

from bot.discord.buttons import MAX_PAGE_SIZE, send_results
from bot.discord.failures import tell_privately
from bot.reply_text import EXAMPLE_TITLE
from core.errors import InvalidQuery
from core.query_text import clean_query
from core.search_port import MovieSearch

logger = logging.getLogger(__name__)

DEFAULT_RESULTS = 5


def build_movie_command(search: MovieSearch) -> app_commands.Command[Any, ..., None]:
    """`/movie description:<text> [results:1-10]`, usable in guild channels and in DMs with the bot."""

    @app_commands.command(name="movie", description="Find movies by describing what happens in them")
    @app_commands.describe(
        description="What happens in the movie, e.g. NASA tries to rescue an astronaut stranded on Mars",
        results="How many movies to show per page (1 to 10, default 5)",
    )
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=False)
    async def movie(
        interaction: discord.Interaction,
        description: str,
        results: app_commands.Range[int, 1, MAX_PAGE_SIZE] = DEFAULT_RESULTS,
    ) -> None:
        try:
            query = clean_query(description)
        except InvalidQuery as exc:
            await tell_privately(interaction, exc.user_message)
            return
        # Acknowledge before any slow work: Discord drops interactions not answered within 3 seconds.
        await interaction.response.defer(thinking=True)
        found = await search.search(query, limit=results)
        logger.info("/movie by user %s: %d hit(s) in %.0f ms", interaction.user.id, len(found.hits),
                 found.took_ms)
        await send_results(interaction, found, results)

    return movie


def build_similar_command(search: MovieSearch) -> app_commands.Command[Any, ..., None]:
    """`/similar title:<text>`: films like the one named, resolved by the core even when misspelled."""

    @app_commands.command(name="similar", description="Find films like one you name")
    @app_commands.describe(title=f"A film you liked, e.g. {EXAMPLE_TITLE}")
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=False)
    async def similar(interaction: discord.Interaction, title: str) -> None:
        try:
            name = clean_query(title)
        except InvalidQuery as exc:
            await tell_privately(interaction, exc.user_message)
            return
        await interaction.response.defer(thinking=True)  # within Discord's 3 seconds, before any slow work
        found = await search.similar(name, limit=DEFAULT_RESULTS)
        logger.info("/similar by user %s: %d hit(s) in %.0f ms", interaction.user.id, len(found.hits),
                 found.took_ms)
        await send_results(interaction, found, DEFAULT_RESULTS)

    return similar
