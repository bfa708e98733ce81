"""Running an advisory tool (safety, pip-audit) as a subprocess, and finding its JSON.

Tools run with stdin closed (a login prompt cannot hang us), the caller's environment
untouched, and a timeout after which the process is killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from packaging.utils import InvalidName, canonicalize_name
from packaging.version import InvalidVersion, Version

__all__ = ["json_object", "last_line", "pinned_requirement", "requirements_file", "run_tool"]


def pinned_requirement(name: str, version: str) -> str:
    """``name==version`` for a tool's requirements file; raises ``ValueError`` for anything
    that is not a valid name and PEP 440 version (a newline could smuggle in an option)."""
    try:
        return f"{canonicalize_name(name, validate=True)}=={Version(version)}"
    except (InvalidName, InvalidVersion) as e:
        raise ValueError(f"cannot check {name!r} {version!r}: {e}") from e


@contextlib.contextmanager
def requirements_file(requirement: str, tool: str) -> Iterator[Path]:
    """A one-line requirements file holding ``requirement``, in a private temp dir removed after."""
    with tempfile.TemporaryDirectory(prefix=f"shouldi-{tool}-") as scratch:
        path = Path(scratch, "requirements.txt")
        path.write_text(requirement + "\n", encoding="utf-8")
        yield path


async def run_tool(argv: list[str], timeout: float) -> tuple[int, str, str]:
    """``(exit code, stdout, stderr)``; raises :class:`asyncio.TimeoutError` after killing
    the process, and ``OSError`` when it cannot start."""
    proc = await asyncio.create_subprocess_exec(  # safe: our own tools, argv list, no shell
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except (asyncio.TimeoutError, asyncio.CancelledError):  # not the builtin before 3.11
        with contextlib.suppress(ProcessLookupError):  # it may have just ended
            proc.kill()  # a cancelled run leaves no tool running either
        await proc.wait()
        raise
    return proc.returncode or 0, out.decode(errors="replace"), err.decode(errors="replace")


def json_object(text: str) -> dict[str, Any] | None:
    """The first JSON object in a tool's stdout (banners or warnings may precede it)."""
    start = text.find("{")
    while start >= 0:
        try:
            value, _ = json.JSONDecoder().raw_decode(text, start)
        except ValueError:
            start = text.find("{", start + 1)
            continue
        if isinstance(value, dict):
            return value
        start = text.find("{", start + 1)
    return None


def last_line(text: str, default: str = "no output") -> str:
    """The last non-empty line of a tool's stderr, for a one-line reason."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return (lines[-1] if lines else default)[:200]
