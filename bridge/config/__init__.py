"""The bridge's configuration: one YAML file, checked, and upgraded in place as settings are added.

The package is split by job: ``yamlfile`` reads and writes the YAML (and grafts the example's
new settings into the user's file, comments kept), ``validation`` checks the settings, and
``config`` holds the ``Config`` class with its typed accessors and Matrix ID helpers.
"""

from .config import Config
from .errors import ConfigError
from .validation import (
    ASYNC_DATABASE_DRIVERS,
    PERMISSION_LEVELS,
    QQ_PACING_FLOATS,
    TOKEN_PLACEHOLDER,
)
from .yamlfile import EXAMPLE_NAME, OPAQUE_SECTIONS, example_text, write_atomically

__all__ = [
    "ASYNC_DATABASE_DRIVERS",
    "EXAMPLE_NAME",
    "OPAQUE_SECTIONS",
    "PERMISSION_LEVELS",
    "QQ_PACING_FLOATS",
    "TOKEN_PLACEHOLDER",
    "Config",
    "ConfigError",
    "example_text",
    "write_atomically",
]
