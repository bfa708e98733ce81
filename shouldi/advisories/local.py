"""The "local-osv" source: lookups in the SQLite store that ``shouldi db`` fills."""

from __future__ import annotations

import asyncio
from datetime import datetime

from packaging.utils import canonicalize_name

from shouldi.advisories.errors import AdvisoryError
from shouldi.advisories.interface import vouch
from shouldi.advisories.store import AdvisoryStore
from shouldi.results import AdvisoryAnswer, Status

__all__ = ["LocalOsvSource"]

EMPTY_REASON = "local advisory store is empty: run `shouldi db import`"


class LocalOsvSource:
    """Answers from the local store, for releases older than its newest advisory."""

    name = "local-osv"

    def __init__(self, store: AdvisoryStore | None = None) -> None:
        self.store = store or AdvisoryStore()

    async def lookup(
        self, name: str, version: str, release_time: datetime | None
    ) -> AdvisoryAnswer:
        return await asyncio.to_thread(self.lookup_sync, name, version, release_time)

    def lookup_sync(self, name: str, version: str, release_time: datetime | None) -> AdvisoryAnswer:
        """The same as :meth:`lookup`, for callers without an event loop."""
        try:
            status = self.store.status()
            if status is None:
                return AdvisoryAnswer(self.name, Status.SKIPPED, reason=EMPTY_REASON)
            found, notes = self.store.matches(canonicalize_name(name), version)
        except AdvisoryError as e:
            return AdvisoryAnswer(self.name, Status.ERROR, reason=str(e))
        except Exception as e:  # a source never raises: a crash is an ERROR answer
            return AdvisoryAnswer(self.name, Status.ERROR, reason=f"local OSV lookup failed: {e!r}")
        verdict = vouch("local OSV store", status.data_time, release_time)
        return AdvisoryAnswer(
            source=self.name,
            status=verdict.status,
            advisories=found,
            reason=verdict.reason,
            data_time=status.data_time,
            warnings=verdict.warnings + notes,
        )
