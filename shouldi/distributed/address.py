"""The ``--dask-scheduler`` value: an existing scheduler's address, or ``local:N``.

Checked here, once, without importing dask (``Settings`` calls :func:`check_scheduler`):

- ``local:N`` (1 <= N <= 64): a :class:`distributed.LocalCluster` of N worker *processes*,
  one thread each, started for the command and closed after it;
- ``SCHEME://HOST:PORT`` for the schemes Dask speaks over a network (``tcp``, ``tls``,
  ``ws``, ``wss``, ``ucx``), as ``dask scheduler`` prints it; a port is required (a default
  port would hide a typo);
- ``inproc://...``: a scheduler in this very process (tests, notebooks).

Anything else is a one-line usage error (exit 2).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from shouldi.distributed.errors import ClusterUnfitError

__all__ = ["MAX_LOCAL_WORKERS", "check_scheduler", "local_workers"]

MAX_LOCAL_WORKERS = 64
_NETWORK = ("tcp", "tls", "ws", "wss", "ucx")
_LOCAL = re.compile(r"local:(\d{1,3})")


def local_workers(address: str) -> int | None:
    """N of ``local:N``; None for a scheduler address."""
    match = _LOCAL.fullmatch(address)
    return int(match.group(1)) if match else None


def check_scheduler(address: str) -> str:
    """``address`` stripped, or :class:`ClusterUnfitError` saying what is expected."""
    text = address.strip()
    expected = "expected local:N or a scheduler address such as tcp://HOST:8786"
    if not text or len(text) > 512 or any(c.isspace() or ord(c) < 32 for c in text):
        raise ClusterUnfitError(f"--dask-scheduler {address[:80]!r}: {expected}")
    if text.startswith("local:"):
        workers = local_workers(text)
        if workers is None or not 1 <= workers <= MAX_LOCAL_WORKERS:
            raise ClusterUnfitError(f"--dask-scheduler {text[:80]!r}: local:N takes N from 1 to "
                                    f"{MAX_LOCAL_WORKERS} (worker processes on this machine)")
        return text
    parts = urlsplit(text)
    if parts.scheme == "inproc" and parts.netloc:
        return text
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme not in _NETWORK or not parts.hostname or port is None or parts.path not in ("", "/"):
        raise ClusterUnfitError(f"--dask-scheduler {text[:80]!r}: {expected}")
    return text.rstrip("/")
