"""Process operations with ``here_when``, for tests/test_speed.py (module level: workers import them)."""

from __future__ import annotations

import os
from typing import NewType

from shouldi.dataflow import op

Size = NewType("Size", int)
Where = NewType("Where", int)


def _small(size: Size) -> bool:
    if size < 0:
        raise ValueError("a predicate that fails")
    return size < 10


@op(executor="process", here_when=_small)
def where_sized(size: Size) -> Where:
    return Where(os.getpid())
