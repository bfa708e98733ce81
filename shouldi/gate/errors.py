"""Errors of the gate layer (``shouldi ci``): policy inputs the user wrote.

Everything here is the user's to fix, so the base is a :class:`~shouldi.errors.UsageError`::

    ShouldiError
    └── UsageError                    exit 2
        └── GateError                 the gate's own inputs are wrong
            └── AllowlistError        the allowlist file cannot be read or has a bad entry:
                                      "allow.toml: entry 3 (requests): 'expires' is required"
"""

from __future__ import annotations

from shouldi.errors import UsageError

__all__ = ["AllowlistError", "GateError"]


class GateError(UsageError):
    """A gate option or file is wrong (exit 2)."""


class AllowlistError(GateError):
    """The allowlist file is unreadable, not TOML, or has an invalid entry."""
