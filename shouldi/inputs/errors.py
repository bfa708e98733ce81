"""Errors of the inputs layer: reading the dependency lists a user points shouldi at.

Every input error is the user's to fix (a typo in a requirements file, a missing file), so
the base derives from :class:`~shouldi.errors.UsageError` and exits 2::

    ShouldiError
    └── UsageError                    exit 2
        └── InputError                a dependency input could not be read or parsed:
                                      "requirements.txt:7: invalid requirement 'foo==': ..."
"""

from __future__ import annotations

from shouldi.errors import UsageError

__all__ = ["InputError"]


class InputError(UsageError):
    """A requirements file, pyproject.toml or environment could not be read.

    The message is one line and names the file (and line, when there is one).
    """
