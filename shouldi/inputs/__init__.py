"""Dependency inputs: requirements files, ``pyproject.toml`` and the installed environment.

Every reader returns :class:`Dependency` values that keep the file and line they came from;
dependencies shouldi cannot look up on an index are values with an ``unsupported`` reason.
Readers raise :class:`InputError` (a :class:`~shouldi.errors.UsageError`, exit 2). Every file
is read through :func:`read_text_input` (regular, bounded, decodable: see
:mod:`shouldi.inputs.files`); :func:`same_file` tells an output that is one of the inputs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shouldi.lazy import lazy_exports

if TYPE_CHECKING:
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

# Names load on first use (PEP 562): reading a policy from pyproject.toml needs the TOML reader
# and the error type, not importlib.metadata and packaging's platform tags (a warm check run in
# a project directory paid ~0.1 s for them).
__getattr__, __dir__ = lazy_exports(__name__, {
    "Dependency": "shouldi.inputs.dependency",
    "InputError": "shouldi.inputs.errors",
    "RequirementsFile": "shouldi.inputs.requirements",
    "installed_distributions": "shouldi.inputs.installed",
    "read_bytes_input": "shouldi.inputs.files",
    "read_pyproject": "shouldi.inputs.pyproject",
    "read_requirements": "shouldi.inputs.requirements",
    "read_text_input": "shouldi.inputs.files",
    "same_file": "shouldi.inputs.files",
})
