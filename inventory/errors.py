"""The project's one configuration error type, on the ground floor so that every layer can use it.

``evolve.config``, ``agent.config`` and the CLI all raise and catch this class: a setting
that is missing, unknown, of the wrong type or out of range. The message names where the
setting came from (a file and field, or a command-line flag).
"""
from __future__ import annotations


class ConfigError(ValueError):
    """A setting is missing, unknown or out of range; the message names the file/flag and field."""
