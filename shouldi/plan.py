"""Which releases and files to judge, when a request stands for more than one.

The flow judges one release's one file per context. Some requests name several: every file
of a release (``--all-files``: an attack may sit in one wheel, or only in the sdist), and,
with dependency trees, every node. Planning resolves them first and gives each context its
:class:`~shouldi.operations.definitions.PlannedRelease`, which ``resolve_release`` takes as it
is (the trace shows it as a seed). Planning never builds or runs anything; a request that
cannot be planned is passed on unchanged, so the flow itself says why (no such project, ...).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from shouldi.api import Request
from shouldi.errors import ShouldiError
from shouldi.settings import Settings

__all__ = ["every_file"]


async def every_file(requests: Sequence[Request], settings: Settings) -> list[Request]:
    """Each request once per file of the release it resolves to (the file pip would install
    first), for the settings' target."""
    from shouldi.index import make_client, parse_spec, resolve

    out: list[Request] = []
    async with make_client(timeout=settings.timeout) as client:
        for r in requests:
            if r.planned is not None:
                out.append(r)
                continue
            hashes = [h.split(":", 1)[1] for h in r.hashes if h.startswith("sha256:")]
            try:
                releases = await resolve(client, r.index_url or settings.index_url,
                                         parse_spec(r.spec), target=settings.target,
                                         hashes=hashes or None, all_files=True)
            except ShouldiError:
                out.append(r)
                continue
            out += [dataclasses.replace(r, planned=release) for release in releases]
    return out
