"""Writing a check as a plugin: the contract.

A plugin is an installed distribution that publishes operations under the
``shouldi.operations`` entry-point group::

    [project.entry-points."shouldi.operations"]
    binaries = "shouldi_binaries_check"          # a module: every operation in it joins

Each operation is a typed function declared with :func:`op`. It may take any value of the
flow by its type — :class:`Release` (the release and the file judged), :class:`PackageMetadata`
(the index's JSON API), :class:`Extraction` (the judged file, safely extracted; ``tree`` is
None when the archive was refused) — and it adds a check by returning a :data:`PluginCheck`:

.. code-block:: python

    from shouldi.plugins import CheckResult, Extraction, Finding, PluginCheck, Severity, Status, op

    @op
    def binaries_check(extraction: Extraction) -> PluginCheck:
        ...
        return PluginCheck(CheckResult("binaries", Status.OK, findings))

What the verdict makes of it (:mod:`shouldi.verdict.rules`), as for the built-in checks:

- findings of severity ``high``/``critical`` fail the package, ``medium`` warns, lower is
  information; say where (``file``, ``line``) and why (``message``);
- ``Status.OK`` means the check really looked (return OK with no findings when there is
  nothing to look at, e.g. a pure-Python wheel for a check about binaries);
- ``Status.SKIPPED``/``ERROR``, an exception, or not running at all (an input it needs was
  not produced) mean "could not check": the verdict is ``error`` (exit 3), never ``pass``;
- the check appears in the report's ``checks`` under its ``CheckResult.check`` name
  (``plugin:<name>`` when that name is taken).

Plugins never run package code either: read files, never import or execute them. A plugin
that fails to load, or does not fit the flow (a name taken, an input nothing produces), is
left out and reported by ``shouldi dataflow plugins``.
"""

from __future__ import annotations

from shouldi.dataflow import op
from shouldi.operations.definitions import Extraction, PluginCheck
from shouldi.results import (
    CheckResult,
    ExtractedTree,
    Finding,
    PackageMetadata,
    Release,
    Severity,
    Status,
)

__all__ = ["CheckResult", "ExtractedTree", "Extraction", "Finding", "PackageMetadata", "PluginCheck",
           "Release", "Severity", "Status", "op"]
