"""The lines a person reads about known vulnerabilities: one per problem, with the fix.

Pure functions over :class:`~shouldi.results.AdvisoryAnswer` values, for the verdict and the
CLI to print; the full per-source detail stays in the answers (``-v``, JSON), see
:func:`source_lines`.

- :func:`problem_line`: why the check does not hold for one release, in one line under
  :data:`MAX_LINE` characters, ending with the command that fixes it. A broken source (ERROR)
  comes first, because it must be repaired even when another source vouched; otherwise, when
  nobody vouched, the fix of the local store (the one source the user can always set up,
  offline too), else any other source's fix.
- :func:`stale_data_line`: once per run, how old the data was that the checks rested on. For
  each package the *freshest* source that vouched counts (an old store does not matter where a
  live service answered too); the run reports its worst package, against the policy's
  ``advisory_max_age_days``. Live sources carry the query time, so they are never old.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from shouldi.advisories.interface import as_utc, utcnow
from shouldi.results import AdvisoryAnswer, Status

__all__ = ["MAX_LINE", "problem_line", "source_lines", "stale_data_line"]

#: The longest line we print about one problem.
MAX_LINE = 160
_LOCAL = "local-osv"
_NAME_MAX = 40


def problem_line(name: str, version: str, answers: Sequence[AdvisoryAnswer]) -> str | None:
    """One line saying why no answer can be trusted for ``name==version``; ``None`` when the
    check holds (some source vouched and none is broken)."""
    broken = [a for a in answers if a.status is Status.ERROR]
    if broken:
        first = broken[0]
        reason = first.reason or "broken, no reason given"
        line = reason if first.source == _LOCAL else f"{first.source}: {reason}"
        more = f" (+{len(broken) - 1} more, see -v)" if len(broken) > 1 else ""
        return _fit(line, more)
    if any(a.status is Status.OK for a in answers):
        return None
    what = f"{_short(name)} {_short(version)}"
    local = next((a for a in answers if a.source == _LOCAL), None)
    if local is not None and local.data_time is not None and local.fix:
        day = as_utc(local.data_time).date().isoformat()
        return _fit(f"advisory data ({day}) is older than {what}: refresh it with {local.fix}")
    fix = (local.fix if local is not None else None) or next((a.fix for a in answers if a.fix), None)
    if fix:
        return _fit(f"no advisory source could vouch for {what}: load advisories with {fix}")
    return _fit(f"no advisory source could vouch for {what} (each source's reason: -v)")


def stale_data_line(
    packages: Iterable[Sequence[AdvisoryAnswer]],
    max_age_days: int,
    now: datetime | None = None,
) -> str | None:
    """``advisory data is N days old (policy advisory_max_age_days = M)`` once for a run, from
    every package's answers; ``None`` when no package rested on data older than ``M`` days."""
    now = now or utcnow()
    worst: tuple[int, AdvisoryAnswer] | None = None
    for answers in packages:
        vouched = [a for a in answers if a.status is Status.OK and a.data_time is not None]
        if not vouched:
            continue
        freshest = max(vouched, key=lambda a: as_utc(a.data_time or now))
        age = (now - as_utc(freshest.data_time or now)).days
        if age > max_age_days and (worst is None or age > worst[0]):
            worst = (age, freshest)
    if worst is None:
        return None
    age, answer = worst
    label = "advisory data" if answer.source == _LOCAL else f"{answer.source} data"
    line = f"{label} is {age} days old (policy advisory_max_age_days = {max_age_days})"
    return _fit(line + (f": refresh it with {answer.fix}" if answer.fix else ""))


def source_lines(answers: Sequence[AdvisoryAnswer]) -> tuple[str, ...]:
    """One line per source for ``-v``: ``pypi-json: skipped - per-version JSON not served``."""
    out = []
    for a in answers:
        found = f", {len(a.advisories)} found" if a.advisories else ""
        reason = f" - {a.reason}" if a.reason else ""
        out.append(f"{a.source}: {a.status.value}{found}{reason}")
    return tuple(out)


def _short(text: str) -> str:
    return text if len(text) <= _NAME_MAX else text[: _NAME_MAX - 1] + "…"


def _fit(line: str, suffix: str = "") -> str:
    """One line of at most :data:`MAX_LINE` characters; a long one loses its middle, because
    its end is the command that fixes the problem."""
    line = " ".join(line.split())  # one line, whatever a reason held
    room = MAX_LINE - len(suffix)
    if len(line) > room:
        head = (room - 1) // 2
        line = line[:head] + "…" + line[len(line) - (room - 1 - head) :]
    return line + suffix
