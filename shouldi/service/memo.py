"""Answers already given, in memory, each with its JSON rendered once.

The answer cache on disk (:mod:`shouldi.cache.answers`, :mod:`shouldi.resolve.answers`)
would give the same answers, only after reading and decoding a file (~2 ms, and a tree's
resolution when its whole answer is gone); a worker answers the same specs again and again,
so it keeps them here, by the same rule and for the same window:

- only answers that would come out the same when asked again
  (:func:`shouldi.cache.answers.cacheable`: never an ``error``, never a check that could not
  run) are kept, and for a group (a spec's files, a tree's nodes) all of them or none;
- an entry is filed under what was asked (a spec, or a tree's roots) and the settings'
  answer key (:meth:`shouldi.service.checks.CheckRun.key`), and is given while younger than
  the request's ``max_age``;
- a kept answer says it is reused (``reused_from``: when it was given), as the CLI says it.

Each :class:`Given` holds its ``packages`` item as compact JSON text: a JSON list is its
items joined by commas, so a remembered answer is rendered by joining strings
(:meth:`shouldi.service.checks.Checker.render`), not by encoding a few KB of report again.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace

from shouldi.api import Answer
from shouldi.cache.answers import cacheable
from shouldi.cli.render import package_dict

__all__ = ["Given", "Memo"]

_SIZE = 4096


@dataclass(frozen=True)
class Given:
    """An answer and its ``packages`` item of the install JSON, as compact JSON text."""

    answer: Answer
    text: str

    @classmethod
    def of(cls, a: Answer) -> Given:
        return cls(a, json.dumps(package_dict(a), separators=(",", ":")))


class Memo:
    """The last ``size`` groups of answers given, least recently used first out."""

    def __init__(self, size: int = _SIZE) -> None:
        self.size = size
        self._groups: OrderedDict[tuple[str, str], tuple[float, tuple[Given, ...]]] = OrderedDict()

    def get(self, about: str, key: str, max_age: float) -> tuple[Given, ...] | None:
        hit = self._groups.get((about, key))
        if hit is None:
            return None
        answered_at, given = hit
        if not 0 <= time.time() - answered_at < max_age:
            return None
        return given

    def put(self, about: str, key: str, answers: Sequence[Answer], now: float) -> bool:
        """Keep ``answers`` (all, or none when one may not be reused); returns whether kept."""
        if not answers or not all(cacheable(a.report) for a in answers):
            return False
        at = min(a.reused_from or now for a in answers)
        later = tuple(Given.of(replace(a, reused_from=a.reused_from or now)) for a in answers)
        self._groups[(about, key)] = (at, later)
        self._groups.move_to_end((about, key))
        while len(self._groups) > self.size:
            self._groups.popitem(last=False)
        return True
