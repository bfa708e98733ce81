"""Whole-tree answers, reused for ``--max-age`` seconds: asking again reads one file.

``shouldi install flask`` judges seven packages; each answer is cached on its own (the answer
cache, by spec and file), but asking again would still resolve the tree to know which seven
(a page per project) and read seven entries. The whole answer — every node's report, who
required it, the target — is one entry here, so a warm run makes no request and loads neither
the resolver nor the flow.

The key holds everything that decides the answer: the roots (spec, hash pins, index), every
setting of :meth:`~shouldi.settings.Settings.answer_key` (policy, advisory sources and the
local store's state, the target, ``--all-files``), the running interpreter when the target is
the running interpreter, what is installed (plugins among it) and shouldi's own code. An entry is stored only
when every report in it would come out the same when asked again (``cacheable``: no
``error``, nothing that could not run) and the tree was resolved; on read every report must
be about the node it is filed under. It lives in the cache layer's checked store
(:mod:`shouldi.cache.entries`) under ``<cache>/trees/``: anything unexpected is a miss.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from shouldi.cache.entries import EntryStore, digest

if TYPE_CHECKING:
    from shouldi.api import Request
    from shouldi.plan import TreeAnswers
    from shouldi.settings import Settings

__all__ = ["TreeAnswerCache"]


def _environment() -> list[object]:
    """What is installed, cheaply: each site-packages directory and its mtime. Installing,
    upgrading or removing a distribution (a plugin among them) adds or removes a
    ``.dist-info`` directory, which changes its directory's mtime: then every whole-tree
    answer is a miss. (Reading every distribution's entry points costs up to ~0.2 s on a
    busy machine, a large part of a warm run.)"""
    import site
    from pathlib import Path

    dirs = list(site.getsitepackages())
    if site.ENABLE_USER_SITE:
        dirs.append(site.getusersitepackages())
    out: list[object] = []
    for entry in dirs:
        try:
            out.append([entry, Path(entry).stat().st_mtime_ns])
        except OSError:
            continue
    return out


def _interpreter() -> list[str]:
    """The running interpreter, as far as picking files goes (``python`` and ``python3`` of
    one environment are one interpreter)."""
    import os
    import platform

    return [os.path.realpath(sys.executable), sys.version, sys.platform, platform.machine()]


def _slim(request: Request) -> Request:
    """The request without its release's other files and versions: a reused answer needs
    only the file judged (a project like markupsafe has ~150 files per release, which would
    be most of the entry and of the time to read it)."""
    import dataclasses

    if request.planned is None:
        return request
    planned = dataclasses.replace(request.planned, files=(), all_versions=())
    return dataclasses.replace(request, planned=planned)


class TreeAnswerCache:
    """The whole-tree answer for one set of roots and settings."""

    def __init__(self, store: EntryStore, about: dict[str, Any], max_age: float) -> None:
        self.store, self.about, self.max_age = store, about, max_age
        self.key = digest(about)

    @classmethod
    def for_settings(cls, roots: Sequence[Request], settings: Settings) -> TreeAnswerCache | None:
        """None when answers are not reused (``--no-cache``, ``--max-age 0``)."""
        if settings.no_cache or settings.max_age <= 0:
            return None
        from shouldi.cache import Cache
        from shouldi.cache.answers import package_fingerprint

        about = {
            "roots": [[r.spec.strip(), sorted(r.hashes), r.index_url or settings.index_url]
                      for r in roots],
            "settings": settings.answer_key(),
            "max_download": settings.max_download,
            "interpreter": _interpreter() if settings.target is None else None,
            "environment": _environment(),
            "code": package_fingerprint(),
        }
        store = EntryStore(Cache(settings.cache_dir).root / "trees", "tree-answer")
        return cls(store, about, settings.max_age)

    def get(self) -> TreeAnswers | None:
        from shouldi.api import Answer, Request
        from shouldi.cache.answers import cacheable
        from shouldi.cache.codec import from_json
        from shouldi.plan import TreeAnswers
        from shouldi.resolve.requirer import Requirer
        from shouldi.verdict.report import PackageReport

        entry = self.store.get(self.key, self.about)
        if entry is None or not 0 <= time.time() - entry.stored_at < self.max_age:
            return None
        body = entry.body
        try:
            answers = []
            for item in body["answers"]:
                request = from_json(Request, item["request"])
                report = from_json(PackageReport, item["report"])
                required_by = tuple(from_json(Requirer, r) for r in item["required_by"])
                if (request.planned is None or report.name != request.planned.name
                        or not cacheable(report)):
                    return None
                answers.append(Answer(request, report, entry.stored_at, required_by=required_by))
            return TreeAnswers(tuple(answers), str(body["target"]),
                               tuple(str(i) for i in body["ignored"]), None, entry.stored_at)
        except (KeyError, TypeError, ValueError):
            return None

    def put(self, result: TreeAnswers) -> bool:
        """Store ``result`` when asking again would give the same; returns whether it was."""
        from shouldi.cache.answers import cacheable
        from shouldi.cache.codec import to_json

        if result.problem is not None or not result.answers:
            return False
        if not all(cacheable(a.report) and a.request.planned is not None for a in result.answers):
            return False
        body = {
            "target": result.target,
            "ignored": list(result.ignored),
            "answers": [{"request": to_json(_slim(a.request)), "report": to_json(a.report),
                         "required_by": to_json(a.required_by)} for a in result.answers],
        }
        return self.store.put(self.key, self.about, body)
