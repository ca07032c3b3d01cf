"""The one exception the config raises."""

from __future__ import annotations


class ConfigError(Exception):
    """A config that cannot be used; the message names the key and says what is wrong."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key
