"""Files the user names for output: never one of the inputs, written atomically.

An output path that is one of the command's inputs (``ci -r req.txt --output req.txt``) is
refused before anything runs: writing the report there would replace the requirements file.
Inputs the shared options read (the policy file: ``--policy``, else ./shouldi.toml or
./pyproject.toml) are registered with :func:`add_input` and refused the same way, for every
output option. Two outputs of one command naming the same file (``-o X --trace X``) are
refused: one would be lost. A directory, a FIFO or a device is refused too. Writes go through
:func:`shouldi.cache.files.write_atomic`: the old file stays whole until the new one is.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from shouldi.errors import UsageError

if TYPE_CHECKING:
    from shouldi.api import Answer

__all__ = ["add_input", "check_output", "check_outputs", "write_output", "write_trace"]

_INPUTS_KEY = "shouldi.inputs"


def add_input(path: Path) -> None:
    """Register ``path`` as an input of the running command (no output may replace it)."""
    import click

    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.meta.setdefault(_INPUTS_KEY, []).append(path)


def _registered_inputs() -> list[Path]:
    import click

    ctx = click.get_current_context(silent=True)
    return list(ctx.meta.get(_INPUTS_KEY, ())) if ctx is not None else []


def check_outputs(outputs: Sequence[tuple[Path | None, str]], inputs: Iterable[Path]) -> None:
    """:func:`check_output` for each named output (``(path or None, option)``), and refuse
    two outputs that name the same file."""
    from shouldi.inputs.files import same_file

    named = [(path, what) for path, what in outputs if path is not None]
    inputs = list(inputs)
    for i, (path, what) in enumerate(named):
        for other, other_what in named[:i]:
            if same_file(path, other):
                raise UsageError(f"{what} {path} is also {other_what}: one would replace the other")
        check_output(path, inputs, what)


def check_output(path: Path, inputs: Iterable[Path], what: str = "--output") -> None:
    """Refuse an output path that is an input (those given and those registered with
    :func:`add_input`), or exists and is not a regular file."""
    from shouldi.inputs.files import same_file  # the inputs package: only when an output is named
    for source in [*inputs, *_registered_inputs()]:
        if same_file(path, source):
            raise UsageError(f"{what} {path} is also an input: writing it would replace that file")
    try:
        st = path.stat()
    except FileNotFoundError:
        if not path.parent.is_dir() and str(path.parent) not in ("", "."):
            raise UsageError(f"{what} {path}: no such directory {path.parent}") from None
        return
    except OSError as e:
        raise UsageError(f"{what} {path}: {e.strerror or e}") from e
    if not stat.S_ISREG(st.st_mode):
        raise UsageError(f"{what} {path}: not a regular file")


def write_output(path: Path, text: str, *, append: bool = False, what: str = "--output") -> None:
    """Write ``text`` to ``path`` atomically (or append, rewriting atomically): a usage error
    (exit 2) when it cannot be written."""
    from shouldi.cache.files import write_atomic

    try:
        write_atomic(path, text, append=append)
    except OSError as e:
        raise UsageError(f"cannot write {what} {path}: {e.strerror or e}") from e


def write_trace(path: Path, answers: Sequence[Answer]) -> None:
    from shouldi.api import trace_to_dict

    body = {"format": 1, "answers": [trace_to_dict(a) for a in answers]}
    write_output(path, json.dumps(body, indent=1) + "\n", what="--trace")
