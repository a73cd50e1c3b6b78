"""The per-user search limit on Discord, checked once for every slash command that searches.

`CommandTree.interaction_check` runs before any command; a user over `RATE_LIMIT` gets an ephemeral note with
the wait (only they see it) and the command does not run. Button presses are paging, not searches.
"""

from __future__ import annotations

import discord
from discord import app_commands

from core.rate_limit import RateLimiter
from core.search_guard import slow_down_message

SEARCH_COMMANDS = frozenset({"movie", "similar"})


class LimitedCommandTree(app_commands.CommandTree[discord.Client]):
    def __init__(self, client: discord.Client, limiter: RateLimiter | None) -> None:
        super().__init__(client)
        self.limiter = limiter

    async def interaction_check(self, interaction: discord.Interaction[discord.Client], /) -> bool:
        if self.limiter is None or interaction.type is not discord.InteractionType.application_command:
            return True
        if interaction.data is None or interaction.data.get("name") not in SEARCH_COMMANDS:
            return True
        wait = self.limiter.check(f"discord:{interaction.user.id}")
        if wait is None:
            return True
        await interaction.response.send_message(slow_down_message(wait), ephemeral=True)
        return False
