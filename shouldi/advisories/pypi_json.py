"""The "pypi-json" source: the ``vulnerabilities`` PyPI's JSON API lists for a release.

PyPI fills that list from OSV when it serves the JSON, so it is current by nature; but the
index layer only has it for the release it asked about (PyPI's project JSON is the latest
release's). :attr:`PackageMetadata.vulnerabilities` is ``None`` when it is not known for the
release being checked: then this source cannot vouch and says so.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from packaging.utils import canonicalize_name, canonicalize_version

from shouldi.advisories.interface import utcnow
from shouldi.results import Advisory, AdvisoryAnswer, PackageMetadata, Status, VulnId

__all__ = ["PypiJsonSource", "parse_pypi_vulnerabilities"]

SOURCE = "pypi-json"


def parse_pypi_vulnerabilities(entries: Iterable[Mapping[str, Any]]) -> tuple[Advisory, ...]:
    """:class:`Advisory` values from a PyPI JSON ``vulnerabilities`` list, withdrawn ones
    dropped. For the index layer building :attr:`PackageMetadata.vulnerabilities`."""
    found = []
    for entry in entries:
        if not isinstance(entry, Mapping) or not entry.get("id") or entry.get("withdrawn"):
            continue
        text = str(entry.get("summary") or entry.get("details") or "").strip()
        found.append(
            Advisory(
                id=VulnId(str(entry["id"])),
                aliases=frozenset(str(a) for a in entry.get("aliases") or ()),
                summary=text.splitlines()[0] if text else "",
                fixed_versions=tuple(str(v) for v in entry.get("fixed_in") or ()),
                sources=frozenset({SOURCE}),
                url=str(entry["link"]) if entry.get("link") else None,
            )
        )
    return tuple(found)


class PypiJsonSource:
    """Answers from :class:`PackageMetadata` the index layer already fetched."""

    name = SOURCE

    def __init__(self, metadata: PackageMetadata) -> None:
        self.metadata = metadata

    @classmethod
    def from_metadata(cls, metadata: PackageMetadata) -> PypiJsonSource:
        return cls(metadata)

    async def lookup(
        self, name: str, version: str, release_time: datetime | None
    ) -> AdvisoryAnswer:
        meta = self.metadata
        if canonicalize_name(name) != canonicalize_name(meta.name) or canonicalize_version(
            version
        ) != canonicalize_version(meta.version):
            return self._skip(f"PyPI metadata is for {meta.name}=={meta.version}, not this release")
        if not meta.available:
            return self._skip("the index has no PyPI JSON API: no vulnerability list")
        if meta.vulnerabilities is None:
            if meta.latest_version and meta.latest_version != meta.version:
                return self._skip(
                    f"PyPI lists vulnerabilities only for the latest release"
                    f" ({meta.latest_version}), not {meta.version}"
                )
            return self._skip("PyPI JSON gave no vulnerability list for this release")
        advisories = tuple(
            dataclasses.replace(a, sources=a.sources | {SOURCE}) for a in meta.vulnerabilities
        )
        return AdvisoryAnswer(SOURCE, Status.OK, advisories=advisories, data_time=utcnow())

    def _skip(self, reason: str) -> AdvisoryAnswer:
        return AdvisoryAnswer(SOURCE, Status.SKIPPED, reason=reason)
