"""The kinds of data the shouldi flow passes between operations.

Each is a ``NewType`` (or a class), so an operation's type hints are its wiring.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, NewType

from shouldi.dataflow import define
from shouldi.results import Advisory, AdvisoryAnswer, CheckResult, ExtractedTree

if TYPE_CHECKING:
    import httpx

    from shouldi.index import ArtifactCache
    from shouldi.policy import Policy

__all__ = [
    "AdvisoryReport",
    "ArchiveCheck",
    "ArtifactPath",
    "BanditResult",
    "Extraction",
    "HeuristicsResult",
    "LocalAnswer",
    "MetadataResult",
    "PipAuditAnswer",
    "PypiJsonAnswer",
    "RequirementSpec",
    "SafetyAnswer",
    "ScanNeeded",
    "ScratchDir",
    "Session",
    "TyposquatResult",
]

RequirementSpec = NewType("RequirementSpec", str)
ScanNeeded = NewType("ScanNeeded", bool)  # false when the result cache has the code scans
ArtifactPath = NewType("ArtifactPath", Path)
ScratchDir = NewType("ScratchDir", Path)
define(ScratchDir, lock=True)  # two operations never use one scratch dir at once
BanditResult = NewType("BanditResult", CheckResult)
HeuristicsResult = NewType("HeuristicsResult", CheckResult)
MetadataResult = NewType("MetadataResult", CheckResult)
TyposquatResult = NewType("TyposquatResult", CheckResult)
ArchiveCheck = NewType("ArchiveCheck", CheckResult)
PypiJsonAnswer = NewType("PypiJsonAnswer", AdvisoryAnswer)
LocalAnswer = NewType("LocalAnswer", AdvisoryAnswer)
SafetyAnswer = NewType("SafetyAnswer", AdvisoryAnswer)
PipAuditAnswer = NewType("PipAuditAnswer", AdvisoryAnswer)


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


@dataclass(frozen=True, eq=False)
class Session:
    """What every context of a run shares: the HTTP client, caches, policy and options."""

    client: httpx.AsyncClient
    index_url: str
    policy: Policy
    cache: ArtifactCache | None = None
    max_download: int = 256 << 20
    scan_timeout: float = 900.0
    advisory_db: Path | None = None
    pip_audit_osv_url: str | None = None
    pip_audit: bool = True
    safety_cli: bool = True
    risk_model: bool = False  # load the risk model while scanning (the runner scores with it)
    now: datetime | None = None
    extra: dict[str, object] = field(default_factory=dict)
