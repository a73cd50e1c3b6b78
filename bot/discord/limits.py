"""The per-user search limit on Discord, checked before every slash command and every button press that searches.

`CommandTree.interaction_check` runs before any command; the persistent components (`bot.discord.buttons`)
check in their own `interaction_check`, under the same key, so paging and "More like…" count with the user's
searches as on Telegram. A user over `RATE_LIMIT` gets an ephemeral note with the wait (only they see it) and
nothing runs.
"""

from __future__ import annotations

import discord
from discord import app_commands

from bot.discord.failures import tell_privately
from core.rate_limit import RateLimiter
from core.search_guard import slow_down_message

SEARCH_COMMANDS = frozenset({"movie", "similar"})


async def over_limit(limiter: RateLimiter | None, interaction: discord.Interaction) -> bool:
    """Count one search by the interaction's user; past the limit, tell them privately when to try again."""
    if limiter is None:
        return False
    wait = limiter.check(f"discord:{interaction.user.id}")
    if wait is None:
        return False
    await tell_privately(interaction, slow_down_message(wait))
    return True


class LimitedCommandTree(app_commands.CommandTree[discord.Client]):
    def __init__(self, client: discord.Client, limiter: RateLimiter | None) -> None:
        super().__init__(client)
        self.limiter = limiter

    async def interaction_check(self, interaction: discord.Interaction[discord.Client], /) -> bool:
        if interaction.type is not discord.InteractionType.application_command:
            return True
        if interaction.data is None or interaction.data.get("name") not in SEARCH_COMMANDS:
            return True
        return not await over_limit(self.limiter, interaction)
