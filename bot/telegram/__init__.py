"""Telegram adapter: python-telegram-bot v22 over the core `MovieSearch` port."""

from bot.telegram.app import build_application, run_telegram

__all__ = ["build_application", "run_telegram"]
