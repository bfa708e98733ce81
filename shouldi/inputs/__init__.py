"""Dependency inputs: requirements files, ``pyproject.toml`` and the installed environment.

Every reader returns :class:`Dependency` values that keep the file and line they came from;
dependencies shouldi cannot look up on an index are values with an ``unsupported`` reason.
Readers raise :class:`InputError` (a :class:`~shouldi.errors.UsageError`, exit 2). Every file
is read through :func:`read_text_input` (regular, bounded, decodable: see
:mod:`shouldi.inputs.files`); :func:`same_file` tells an output that is one of the inputs.
"""

from __future__ import annotations

from shouldi.inputs.dependency import Dependency
from shouldi.inputs.errors import InputError
from shouldi.inputs.files import read_bytes_input, read_text_input, same_file
from shouldi.inputs.installed import installed_distributions
from shouldi.inputs.pyproject import read_pyproject
from shouldi.inputs.requirements import RequirementsFile, read_requirements

__all__ = [
    "Dependency",
    "InputError",
    "RequirementsFile",
    "installed_distributions",
    "read_bytes_input",
    "read_pyproject",
    "read_requirements",
    "read_text_input",
    "same_file",
]
