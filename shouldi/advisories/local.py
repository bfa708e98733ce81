"""The "local-osv" source: lookups in the SQLite store that ``shouldi db`` fills.

What each state of the store answers:

- the default store does not exist yet: SKIPPED, "no local advisory store" (not set up is
  not broken);
- a store the user named (``--advisory-db``, ``$SHOULDI_ADVISORY_DB``) does not exist, or any
  store holds no advisories: ERROR, with the command that fills it;
- a store that exists but is unusable (garbage, corrupt, another program's database, a newer
  format, locked): ERROR with the store's one-line repair (:class:`StoreError`);
- otherwise the key rule (:func:`~shouldi.advisories.interface.vouch`): OK for releases older
  than the store's newest advisory, else SKIPPED with its matches still reported.

``fix`` is the command that loads or refreshes the data (``shouldi db update``, with
``--store`` for a store ``shouldi db`` would not pick by itself), for the messages of
:mod:`shouldi.advisories.messages`; none where newer data would not help.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from packaging.utils import canonicalize_name

from shouldi.advisories.errors import AdvisoryError
from shouldi.advisories.interface import vouch
from shouldi.advisories.store import AdvisoryStore
from shouldi.results import AdvisoryAnswer, Status

__all__ = ["LOAD_FIX", "LocalOsvSource"]

SOURCE = "local-osv"
#: How to load advisories (for messages): online, or offline from a file.
LOAD_FIX = "`shouldi db update`, or `shouldi db import FILE` offline"


class LocalOsvSource:
    """Answers from the local store, for releases older than its newest advisory."""

    name = SOURCE

    def __init__(self, store: AdvisoryStore | None = None) -> None:
        self.store = store or AdvisoryStore()

    async def lookup(
        self, name: str, version: str, release_time: datetime | None
    ) -> AdvisoryAnswer:
        return await asyncio.to_thread(self.lookup_sync, name, version, release_time)

    def lookup_sync(self, name: str, version: str, release_time: datetime | None) -> AdvisoryAnswer:
        """The same as :meth:`lookup`, for callers without an event loop."""
        store = self.store
        if not store.configured and not store.exists():
            return AdvisoryAnswer(
                SOURCE, Status.SKIPPED, reason="no local advisory store", fix=LOAD_FIX
            )
        if not store.exists():
            reason = f"{store.subject()} does not exist: create it with {_fill(store)}"
            return AdvisoryAnswer(SOURCE, Status.ERROR, reason=reason, fix=_fill(store))
        try:
            found = store.lookup(canonicalize_name(name), version)
        except AdvisoryError as e:
            return AdvisoryAnswer(SOURCE, Status.ERROR, reason=str(e))
        except Exception as e:  # a source never raises: a crash is an ERROR answer
            return AdvisoryAnswer(SOURCE, Status.ERROR, reason=f"local OSV lookup failed: {e!r}")
        if found is None:
            reason = f"{store.subject()} holds no advisories: load them with {_fill(store)}"
            return AdvisoryAnswer(SOURCE, Status.ERROR, reason=reason, fix=_fill(store))
        verdict = vouch("local OSV store", found.data_time, release_time)
        return AdvisoryAnswer(
            source=SOURCE,
            status=verdict.status,
            advisories=found.advisories,
            reason=verdict.reason,
            data_time=found.data_time,
            warnings=found.notes,
            fix=f"`{store.command('update')}`" if _refreshing_helps(verdict.status, release_time) else None,
        )


def _refreshing_helps(status: Status, release_time: datetime | None) -> bool:
    """Newer data would let the store vouch, or vouch with fresher data (not so when the
    release's upload time is unknown: no data can vouch for it)."""
    return status is Status.OK or release_time is not None


def _fill(store: AdvisoryStore) -> str:
    return f"`{store.command('update')}`, or `{store.command('import FILE')}` offline"
