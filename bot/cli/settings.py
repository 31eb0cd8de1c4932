"""Settings for a command, turned into one clear error line when they are wrong."""

from __future__ import annotations

import os

from bot.cli.errors import CliError
from bot.settings import Settings, SettingsError


def load_settings() -> Settings:
    try:
        return Settings.load(os.environ)
    except SettingsError as exc:
        raise CliError(f"bad setting: {exc}") from None
