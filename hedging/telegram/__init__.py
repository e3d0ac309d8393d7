"""Telegram: the alerts notifier, the command bot and a simulated Bot API."""
