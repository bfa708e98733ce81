"""Two input kinds beyond "required" and "optional": *explained* absences and *collected* values.

- An optional parameter whose hint is ``X | Missing`` receives, when no ``X`` was produced, a
  :class:`Missing` that says why (its producer failed, was skipped, or produced nothing)
  instead of the default. An operation that must treat "the check raised" and "the check
  said it could not run" the same way (shouldi's verdict) needs exactly that.
- A parameter hinted ``Annotated[tuple[X, ...], ALL]`` collects every ``X`` of the context:
  it waits until the context is quiet (nothing running), then receives all values of ``X``
  produced so far, in order (possibly none). Any number of operations may produce ``X``, so
  plugins can add values without the collecting operation knowing them.

Both are resolved when the flow is built; nothing here is looked up per dispatch.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

__all__ = ["ALL", "Missing", "MissingWhy"]

MissingWhy = Literal["failed", "skipped", "not produced", "not given"]


class _All:
    """Marker for collected inputs (see the module docstring)."""

    def __repr__(self) -> str:
        return "ALL"


ALL = _All()


@dataclasses.dataclass(frozen=True)
class Missing:
    """Why a definition has no value in a context.

    ``why``: ``failed`` (its producer raised: ``operation``, ``error_type`` and ``message`` say
    which and how), ``skipped`` (its producer did not run: ``message`` says why, e.g. a false
    condition or a missing input, itself explained), ``not produced`` (the producer ran and
    returned nothing), ``not given`` (a seed nobody gave). ``exception`` is the original error,
    for callers that map error types (it is excluded from comparisons and JSON).
    """

    definition: str
    why: MissingWhy
    message: str
    operation: str | None = None
    error_type: str | None = None
    root: str | None = None  # the operation whose failure or skip started the chain
    exception: BaseException | None = dataclasses.field(default=None, compare=False, repr=False)

    def describe(self) -> str:
        """One line: ``bandit_scan failed: timed out after 900 s``."""
        return self.message
