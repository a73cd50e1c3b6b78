"""Previous/next buttons under a /movie answer: re-run the search at another offset and update the message."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from bot.discord.failures import report_failure
from bot.discord.render import render_results
from core.models import SearchResults
from core.query_text import MAX_RESULTS
from core.search_port import MovieSearch

logger = logging.getLogger(__name__)

PREVIOUS_ID = "movie:previous"
NEXT_ID = "movie:next"
NOT_YOURS = "Only the person who asked can page through these results. Run /movie to start your own search."

MessageEditor = Callable[["ResultsPager"], Awaitable[object]]


class ResultsPager(discord.ui.View):
    """Pages one person's results; on timeout the buttons are disabled so they never fail silently.

    The message is edited through the most recent interaction's token, which is always younger than the
    15 minutes Discord allows because the timeout (shorter than that) restarts on every click.
    """

    def __init__(
        self, *, search: MovieSearch, results: SearchResults, page_size: int, owner_id: int, timeout: float
    ) -> None:
        super().__init__(timeout=timeout)
        self._search = search
        self._query = results.query
        self._page_size = page_size
        self._owner_id = owner_id
        self._offset = results.offset
        self._edit: MessageEditor | None = None
        self._enable_for(results)

    @staticmethod
    def worth_showing(results: SearchResults) -> bool:
        """Buttons only help when there is another page in either direction."""
        return results.offset > 0 or results.has_more

    def attach(self, message: discord.WebhookMessage) -> None:
        """Remember how to edit the message the buttons were sent with."""

        async def edit(view: ResultsPager) -> object:
            return await message.edit(view=view)

        self._edit = edit

    @discord.ui.button(label="◀ Previous", custom_id=PREVIOUS_ID, style=discord.ButtonStyle.secondary)
    async def previous_page(self, interaction: discord.Interaction, _: discord.ui.Button[Any]) -> None:
        await self._show(interaction, max(0, self._offset - self._page_size))

    @discord.ui.button(label="Next ▶", custom_id=NEXT_ID, style=discord.ButtonStyle.primary)
    async def next_page(self, interaction: discord.Interaction, _: discord.ui.Button[Any]) -> None:
        await self._show(interaction, self._offset + self._page_size)

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        if interaction.user.id == self._owner_id:
            return True
        await interaction.response.send_message(NOT_YOURS, ephemeral=True)
        return False

    async def on_timeout(self) -> None:
        self.previous_page.disabled = True
        self.next_page.disabled = True
        if self._edit is None:
            return
        try:
            await self._edit(self)
        except discord.HTTPException as exc:
            logger.info("Could not disable the paging buttons (HTTP %s); the message may be gone", exc.status)

    async def on_error(
        self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any], /
    ) -> None:
        await report_failure(interaction, error)

    async def _show(self, interaction: discord.Interaction, offset: int) -> None:
        # Acknowledge the click before searching: a slow search must not outlast Discord's 3-second window.
        await interaction.response.defer()
        results = await self._search.search(self._query, limit=self._page_size, offset=offset)
        self._offset = results.offset
        self._enable_for(results)

        async def edit(view: ResultsPager) -> object:
            return await interaction.edit_original_response(view=view)

        self._edit = edit
        await interaction.edit_original_response(embed=render_results(results), view=self)

    def _enable_for(self, results: SearchResults) -> None:
        self.previous_page.disabled = results.offset <= 0
        self.next_page.disabled = not results.has_more or results.offset + self._page_size >= MAX_RESULTS
