"""The kinds of data the shouldi flow passes between operations.

Each is a ``NewType`` (or a class), so an operation's type hints are its wiring. The seeds are
small on purpose: an operation takes only what it uses, so the exported flow and its diagram
show the real dependencies (see :data:`shouldi.flow.SEEDS`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, NewType

from shouldi.dataflow import define
from shouldi.results import Advisory, AdvisoryAnswer, CheckResult, ExtractedTree, Release
from shouldi.verdict.report import RiskScore

__all__ = [
    "AdvisoryConfig",
    "AdvisoryReport",
    "ArchiveCheck",
    "ArtifactPath",
    "BanditResult",
    "Extraction",
    "HashPins",
    "HeuristicsResult",
    "HistoryResult",
    "HttpClient",
    "IndexUrl",
    "InputCheck",
    "LocalAnswer",
    "MetadataResult",
    "Now",
    "OsvAnswer",
    "PipAuditAnswer",
    "PlannedRelease",
    "PluginCheck",
    "PypiJsonAnswer",
    "Recorded",
    "RequirementSpec",
    "RiskAnswer",
    "RiskConfig",
    "SafetyAnswer",
    "ScanLimits",
    "ScanNeeded",
    "ScratchDir",
    "SpecWanted",
    "TreeForPlugins",
    "TreeNeeded",
    "TyposquatResult",
    "Wanted",
]

# -- seeds ----------------------------------------------------------------------------------
RequirementSpec = NewType("RequirementSpec", str)
if TYPE_CHECKING:
    import httpx

    HttpClient = NewType("HttpClient", httpx.AsyncClient)
else:  # httpx is not imported here: a worker process running one scanner never needs it
    HttpClient = NewType("HttpClient", object)
IndexUrl = NewType("IndexUrl", str)  # a simple-index root, one trailing slash
Now = NewType("Now", datetime)  # "now" for age signals (tests pin it); absent: the clock
HashPins = NewType("HashPins", frozenset[str])  # "sha256:<hex>" values a requirement pins
TreeForPlugins = NewType("TreeForPlugins", bool)  # a plugin reads the extracted tree
#: A release (and its file) chosen before the flow ran: a file of ``--all-files``, a tree node.
PlannedRelease = NewType("PlannedRelease", Release)
#: Releases already recorded in a scan's output, as (name, version, index root): not checked again.
Recorded = NewType("Recorded", frozenset[tuple[str, str, str]])


@dataclass(frozen=True)
class ScanLimits:
    """How long a scanner may run and how large a download may be."""

    scan_timeout: float = 900.0
    max_download: int = 256 << 20


@dataclass(frozen=True)
class AdvisoryConfig:
    """Which advisory sources to ask, and where."""

    advisory_db: Path | None = None  # the local store (None: the default path in the data dir)
    pip_audit: bool = True
    pip_audit_osv_url: str | None = None
    safety_cli: bool = True
    timeout: float = 120.0
    osv: bool = True  # ask the OSV API (through the run's OsvBatcher seed)


@dataclass(frozen=True)
class RiskConfig:
    """Whether to score with the risk model, and which model file (None: the shipped one)."""

    enabled: bool = True
    model: Path | None = None


# -- produced -------------------------------------------------------------------------------
ScanNeeded = NewType("ScanNeeded", bool)  # false when the result cache has the code scans
TreeNeeded = NewType("TreeNeeded", bool)  # the code scans or a plugin need the extracted tree
Wanted = NewType("Wanted", bool)  # false when the release is already recorded (see Recorded)
SpecWanted = NewType("SpecWanted", bool)  # false when a pinned spec is already recorded: not even resolved
ArtifactPath = NewType("ArtifactPath", Path)
ScratchDir = NewType("ScratchDir", Path)
define(ScratchDir, lock=True)  # two operations never use one scratch dir at once
BanditResult = NewType("BanditResult", CheckResult)
HeuristicsResult = NewType("HeuristicsResult", CheckResult)
MetadataResult = NewType("MetadataResult", CheckResult)
TyposquatResult = NewType("TyposquatResult", CheckResult)
HistoryResult = NewType("HistoryResult", CheckResult)  # the project's history as of the upload
ArchiveCheck = NewType("ArchiveCheck", CheckResult)
InputCheck = NewType("InputCheck", CheckResult)  # what the user pinned vs what was judged
PluginCheck = NewType("PluginCheck", CheckResult)  # a check added by a plugin (shouldi.plugins)
PypiJsonAnswer = NewType("PypiJsonAnswer", AdvisoryAnswer)
LocalAnswer = NewType("LocalAnswer", AdvisoryAnswer)
SafetyAnswer = NewType("SafetyAnswer", AdvisoryAnswer)
PipAuditAnswer = NewType("PipAuditAnswer", AdvisoryAnswer)
OsvAnswer = NewType("OsvAnswer", AdvisoryAnswer)


@dataclass(frozen=True)
class Extraction:
    """An artifact extracted into a scratch dir, or the reason it was refused (then ``tree`` is None)."""

    check: CheckResult
    tree: ExtractedTree | None


@dataclass(frozen=True)
class AdvisoryReport:
    """Advisory sources merged: the known-vulnerabilities check and what it found."""

    check: CheckResult
    advisories: tuple[Advisory, ...]
    answers: tuple[AdvisoryAnswer, ...]


@dataclass(frozen=True)
class RiskAnswer:
    """The risk model's score, or why there is none (``problem``: the model could not load)."""

    score: RiskScore | None
    problem: str | None = None
