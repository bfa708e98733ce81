"""Errors raised while talking to a package index.

Every failure to resolve, describe or download a release is one of these; library errors
(httpx, json, packaging) are translated with ``raise ... from e`` so the CLI prints one line::

    ShouldiError
    ├── UsageError                 exit 2
    │   ├── BadSpec                the spec does not parse, or is a direct URL
    │   └── BadTarget              a bad --python-version/--platform/..., or a --python
    │                              interpreter that cannot be run or asked
    └── PackageIndexError          exit 3: network trouble, server errors after
        │                          retries, garbage bodies
        ├── NotFound               exit 2: no such project, or no matching version
        └── IntegrityError         exit 3: sha256 mismatch, truncated, too large
"""

from __future__ import annotations

from shouldi.errors import EXIT_BAD_INPUT, ShouldiError, UsageError

__all__ = ["BadSpec", "BadTarget", "IndexError_", "IntegrityError", "NotFound", "PackageIndexError"]


class PackageIndexError(ShouldiError):
    """The index could not be read: unreachable, failing, or answering garbage."""


#: The name used in :mod:`shouldi.errors`' tree; the same class.
IndexError_ = PackageIndexError


class BadSpec(UsageError):
    """The requirement spec given by the user cannot be used."""


class NotFound(PackageIndexError):
    """The project does not exist on the index, or no release matches the spec.

    The user asked for something that is not there: that is bad input, hence exit 2.
    """

    exit_code = EXIT_BAD_INPUT


class IntegrityError(PackageIndexError):
    """A download does not match what the index promised (hash, length) or is too large."""


class BadTarget(UsageError):
    """A target environment that cannot be used: a bad option value, or an interpreter
    (``--python PATH``) that cannot be run or asked."""
