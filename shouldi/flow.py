"""The shouldi flow: from a requirement spec to a :class:`~shouldi.verdict.PackageReport`, as
one DataFlow — the whole answer, nothing edited afterwards.

Seeds per context (:data:`SEEDS`): the requirement spec, and small values each operation takes
only if it uses them: the HTTP client, the index root, the policy, the cache layer, scan limits,
the advisory and risk settings; optionally ``Now`` (age signals), ``HashPins`` (the
requirement's ``--hash`` values), ``TreeForPlugins``, ``Recorded`` (releases a resumed
``scan -o`` already has: they are resolved, then not checked again), ``TargetEnvironment``
(the environment the file is picked for) and ``PlannedRelease`` (a release chosen before the
flow ran: one file of ``--all-files``, one node of a dependency tree), ``OsvBatcher`` (the
run's one batcher of OSV API queries) and ``PipAuditBatcher`` (its pip-audit processes: one for
the releases planned ahead).

Code scans of an artifact already seen come from the result cache (keyed by its sha256 and
the scanners' code): then nothing is downloaded or scanned; advisories are always looked up.

Plugins: operations published under the ``shouldi.operations`` entry-point group join the
flow (see :mod:`shouldi.plugins` for the contract); one that fails to load is reported by
:func:`plugin_problems` and left out, never fatal.
"""

from __future__ import annotations

import functools

from shouldi.advisories.osv_api import OsvBatcher
from shouldi.advisories.pip_audit import PipAuditBatcher
from shouldi.cache import Cache
from shouldi.dataflow import DataFlow, Operation
from shouldi.index.target import TargetEnvironment
from shouldi.operations.definitions import (
    AdvisoryConfig,
    ArchiveCheck,
    BanditResult,
    Extraction,
    HashPins,
    HeuristicsResult,
    HttpClient,
    IndexUrl,
    Now,
    PlannedRelease,
    PluginCheck,
    Recorded,
    RequirementSpec,
    RiskConfig,
    ScanLimits,
    ScratchDir,
    TreeForPlugins,
)
from shouldi.policy import Policy

__all__ = ["SEEDS", "build_flow", "builtin_operations", "plugin_operations", "plugin_problems",
           "reads_tree"]

SEEDS = (RequirementSpec, HttpClient, IndexUrl, Policy, Cache, ScanLimits, AdvisoryConfig,
         RiskConfig, Now, HashPins, TreeForPlugins, Recorded, TargetEnvironment, PlannedRelease, OsvBatcher,
         PipAuditBatcher)
#: Code-scan results come from the scanners, or from the result cache on a hit; plugin checks
#: from any number of plugins.
MULTIPLE_PRODUCERS = (ArchiveCheck, BanditResult, HeuristicsResult, PluginCheck)
_TREE = frozenset(d.__name__ for d in (Extraction, ScratchDir)) | {"ArtifactPath"}


def builtin_operations() -> list[Operation]:
    import shouldi.operations as ops

    return [getattr(ops, name) for name in ops.__all__]


@functools.lru_cache(maxsize=1)
def _discovered() -> tuple[tuple[Operation, ...], dict[str, str]]:
    from shouldi.dataflow import discover_operations

    found = discover_operations()
    builtin = {id(o) for o in builtin_operations()}
    extra = tuple(o for o in found.all() if id(o) not in builtin)
    return extra, dict(found.errors)


def plugin_operations() -> tuple[Operation, ...]:
    """Operations of installed plugins (entry-point group ``shouldi.operations``)."""
    return _discovered()[0]


def plugin_problems() -> dict[str, str]:
    """Plugins that could not be loaded or wired (by entry-point or operation name), and why."""
    return {**_discovered()[1], **_build()[1]}


def reads_tree(flow: DataFlow) -> bool:
    """Whether an operation other than the built-in ones reads the extracted tree."""
    builtin = {o.name for o in builtin_operations()}
    return any(i.definition.name in _TREE for o in flow.operations if o.name not in builtin
               for i in o.inputs)


@functools.lru_cache(maxsize=1)
def _build() -> tuple[DataFlow, dict[str, str]]:
    base = builtin_operations()
    problems: dict[str, str] = {}
    flow = DataFlow.build(base, seeds=SEEDS, multiple_producers=MULTIPLE_PRODUCERS)
    for plugin in plugin_operations():
        try:
            flow = flow.with_operations([plugin])
        except Exception as e:  # a plugin that does not fit the flow is left out, and said
            problems[plugin.name] = f"cannot join the flow: {e}"
    return flow, problems


def build_flow() -> DataFlow:
    """The built-in flow plus every installed plugin that fits it."""
    return _build()[0]
