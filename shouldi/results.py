"""Result values shared by every layer: releases, artifacts, findings, check results.

All are frozen dataclasses. "Could not check" is a value (:attr:`Status.SKIPPED`,
:attr:`Status.ERROR`), never an exception and never mistaken for "clean".
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import NewType

__all__ = [
    "Advisory",
    "AdvisoryAnswer",
    "Artifact",
    "CheckResult",
    "ExtractedTree",
    "Finding",
    "PackageMetadata",
    "Release",
    "ReleaseUpload",
    "Severity",
    "Status",
    "VulnId",
]

VulnId = NewType("VulnId", str)


class Status(str, enum.Enum):
    """How a check ended. Only ``OK`` means the check actually looked."""

    OK = "ok"
    SKIPPED = "skipped"
    ERROR = "error"


class Severity(str, enum.Enum):
    """Severity of a finding, ordered (compare with :meth:`rank`)."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_ORDER.index(self)


_SEVERITY_ORDER = [Severity.INFO, Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL]


@dataclass(frozen=True)
class Artifact:
    """One file of a release on an index.

    ``core_metadata`` is True when the index serves the file's core metadata on its own at
    ``url + ".metadata"`` (PEP 658/714), with ``core_metadata_sha256`` when it gave a hash.
    """

    filename: str
    url: str
    sha256: str | None
    kind: str  # "sdist" | "wheel"
    size: int | None = None
    upload_time: datetime | None = None
    yanked: bool = False
    requires_python: str | None = None
    core_metadata: bool = False
    core_metadata_sha256: str | None = None


@dataclass(frozen=True)
class Release:
    """A resolved release: the version chosen for a spec and the artifact chosen to scan.

    ``artifact`` is the file pip would install for the target environment (see
    :mod:`shouldi.index.select`), ``artifact_reason`` says why in plain words, ``files``
    are every file of that version (for ``--all-files``), ``target`` names the environment.
    """

    name: str  # PEP 503 normalised
    version: str
    index_url: str
    artifact: Artifact
    artifact_reason: str  # why this artifact was chosen
    all_versions: tuple[str, ...] = ()
    requested: str = ""  # the spec as the user wrote it
    files: tuple[Artifact, ...] = ()
    target: str = ""  # e.g. "CPython 3.11 on linux x86_64"


@dataclass(frozen=True)
class ReleaseUpload:
    """One version of a project and the first upload time of any of its files."""

    version: str
    uploaded: datetime
    yanked: bool = False  # every file of it is yanked (as of the metadata fetch, not of then)


@dataclass(frozen=True)
class PackageMetadata:
    """What the JSON API says about a project. ``None`` means unknown (no JSON API, or absent)."""

    name: str
    version: str
    available: bool  # False when the index has no JSON API: every other field is then unknown
    summary: str | None = None
    license: str | None = None
    classifiers: tuple[str, ...] = ()
    project_urls: Mapping[str, str] = field(default_factory=dict)
    home_page: str | None = None
    requires_dist: tuple[str, ...] = ()
    release_count: int | None = None
    first_release_time: datetime | None = None
    release_time: datetime | None = None
    latest_version: str | None = None
    latest_release_time: datetime | None = None
    yanked: bool | None = None
    yanked_reason: str | None = None
    vulnerabilities: tuple[Advisory, ...] | None = None  # None: not known for this release
    ownership: Mapping[str, object] | None = None
    #: Every version that has files, with its first upload, oldest first: the history the risk
    #: model's as-of-upload features are computed from (empty: unknown, e.g. no JSON API).
    history: tuple[ReleaseUpload, ...] = ()


@dataclass(frozen=True)
class ExtractedTree:
    """A safely extracted artifact inside a private scratch directory."""

    root: Path
    artifact: Artifact
    member_count: int
    total_size: int


@dataclass(frozen=True)
class Finding:
    """One thing a check found, with evidence."""

    check: str
    rule: str  # e.g. bandit test id "B602", heuristic "exec-decoded-data"
    severity: Severity
    message: str
    file: str | None = None  # relative to the extracted tree's root
    line: int | None = None
    confidence: Severity | None = None
    weight: float = 1.0  # lower for tests/, docs/, examples/
    #: How the code is reached from what runs by itself, outermost first: e.g.
    #: ``("pkg-1.0/setup.py", "cmdclass['install'] = Hook", "pkg-1.0/setup.py:Hook.run")``.
    #: Empty when nothing reaches it (or for checks that do not track it).
    path: tuple[str, ...] = ()


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one scanner on one release."""

    check: str
    status: Status
    findings: tuple[Finding, ...] = ()
    reason: str | None = None  # why skipped/error; or a note for ok
    counts: Mapping[str, int] = field(default_factory=dict)
    tool_version: str | None = None
    warnings: tuple[str, ...] = ()
    duration_s: float | None = None


@dataclass(frozen=True)
class Advisory:
    """A known vulnerability, as one or more sources described it (merged by id and aliases)."""

    id: VulnId
    aliases: frozenset[str] = frozenset()
    summary: str = ""
    affected_versions: tuple[str, ...] = ()  # explicit versions or range descriptions
    fixed_versions: tuple[str, ...] = ()
    sources: frozenset[str] = frozenset()
    url: str | None = None
    severity: Severity | None = None
    published: datetime | None = None  # when the advisory was first published (OSV "published")
    modified: datetime | None = None  # when it last changed (OSV "modified")

    @property
    def all_ids(self) -> frozenset[str]:
        return self.aliases | {self.id}


@dataclass(frozen=True)
class AdvisoryAnswer:
    """What one advisory source said about one exact release.

    ``status`` is ``OK`` only when the source could vouch for this release: it was reachable
    and its data is newer than the release. Otherwise SKIPPED (it could not look: not set up,
    not served, unreachable, data older than the release) or ERROR (it is broken: a corrupt
    store, garbage from a service), with ``reason``. ``fix`` is the command that would let it
    vouch next time (for the one-line message, :mod:`shouldi.advisories.messages`).
    """

    source: str
    status: Status
    advisories: tuple[Advisory, ...] = ()
    reason: str | None = None
    data_time: datetime | None = None  # how recent the source's data is (query time if live)
    warnings: tuple[str, ...] = ()
    fix: str | None = None  # e.g. "`shouldi db update`, or `shouldi db import FILE` offline"
