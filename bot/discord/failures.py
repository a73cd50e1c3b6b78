"""The one place a failed interaction is logged and answered, so nobody is left with a stuck "thinking…"."""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from core.errors import MovieBotError

logger = logging.getLogger(__name__)

APOLOGY = "Sorry, something went wrong while searching. Please try again in a moment."


async def tell_privately(interaction: discord.Interaction, text: str) -> None:
    """Answer with an ephemeral note, as a followup when the interaction was already acknowledged."""
    if interaction.response.is_done():
        await interaction.followup.send(text, ephemeral=True)
    else:
        await interaction.response.send_message(text, ephemeral=True)


async def report_failure(interaction: discord.Interaction, error: Exception) -> None:
    """Log `error` (with its traceback unless the user can act on it) and send a short ephemeral note.

    Used as the command tree's `on_error` and by the paging buttons' `on_error`.
    """
    cause = error.original if isinstance(error, app_commands.CommandInvokeError) else error
    where = _describe(interaction)
    if isinstance(cause, MovieBotError):
        logger.warning("%s failed: %s", where, cause.user_message)
        text = cause.user_message
    else:
        logger.error("%s failed", where, exc_info=cause)
        text = APOLOGY
    try:
        await tell_privately(interaction, text)
    except discord.HTTPException as exc:
        logger.warning("Could not tell the user about the failure of %s: HTTP %s", where, exc.status)


def _describe(interaction: discord.Interaction) -> str:
    command = interaction.command.qualified_name if interaction.command is not None else "component"
    return f"Interaction {interaction.id} ({command}, user {interaction.user.id})"
