"""Typed shared state for handlers, so `context.bot_data.search` is checked by mypy instead of a dict key."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot

from bot.telegram.buttons import PageStore
from core.search_port import MovieSearch


@dataclass
class BotState:
    """The search (handed in by `build_application`, owned by its caller) and the queries behind paging buttons."""

    search: MovieSearch | None = None
    pages: PageStore = field(default_factory=PageStore)

    def require_search(self) -> MovieSearch:
        if self.search is None:
            raise RuntimeError("the movie search is not set: build the application with build_application")
        return self.search


Context = CallbackContext[ExtBot[int], dict[Any, Any], dict[Any, Any], BotState]
TelegramApp = Application[ExtBot[int], Context, dict[Any, Any], dict[Any, Any], BotState, None]
CONTEXT_TYPES = ContextTypes(context=CallbackContext, bot_data=BotState)
