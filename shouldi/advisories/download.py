"""``shouldi db update``: download OSV's PyPI export (a zip) and import it.

The download streams into a private temporary file with a size cap, then the zip is read
member by member like any other import. The store is only touched after the whole download
succeeded, and the import itself is one transaction: any failure leaves the old data.
Unlike ``db import FILE`` (bad input, exit 2), a download that is not a readable OSV zip is
the server's fault, not the user's: it is a :class:`DownloadError` (exit 3).
"""

from __future__ import annotations

import tempfile

import httpx

from shouldi.advisories.errors import AdvisoryImportError, DownloadError
from shouldi.advisories.reader import iter_zip
from shouldi.advisories.store import AdvisoryStore, ImportStats

__all__ = ["MAX_DOWNLOAD_BYTES", "OSV_PYPI_URL", "update_store"]

OSV_PYPI_URL = "https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip"
MAX_DOWNLOAD_BYTES = 1024 * 1024 * 1024


def update_store(
    store: AdvisoryStore,
    *,
    url: str = OSV_PYPI_URL,
    client: httpx.Client | None = None,
    max_bytes: int = MAX_DOWNLOAD_BYTES,
    timeout: float = 30.0,
) -> ImportStats:
    """Replace the store's content with the advisories of the zip at ``url``.

    ``client`` lets tests pass ``httpx.Client(transport=httpx.MockTransport(...))``;
    ``timeout`` applies to each connect/read of the default client.
    """
    owned = client is None
    http = client or httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=True)
    try:
        with tempfile.TemporaryFile() as scratch:
            size = 0
            try:
                with http.stream("GET", url) as response:
                    response.raise_for_status()
                    for chunk in response.iter_bytes():
                        size += len(chunk)
                        if size > max_bytes:
                            raise DownloadError(f"{url} is larger than {max_bytes} bytes")
                        scratch.write(chunk)
            except httpx.HTTPStatusError as e:
                code = e.response.status_code
                raise DownloadError(f"cannot download {url}: HTTP {code}") from e
            except (httpx.TransportError, httpx.InvalidURL) as e:
                raise DownloadError(
                    f"cannot download {url}: {_one_line(e)} (offline: `shouldi db import FILE`)"
                ) from e
            except httpx.HTTPError as e:
                raise DownloadError(f"cannot download {url}: {_one_line(e)}") from e
            scratch.seek(0)
            try:
                return store.import_documents(
                    iter_zip(scratch, url, store.limits), url, replace=True
                )
            except AdvisoryImportError as e:
                raise DownloadError(f"the download is unusable: {e}") from e
    finally:
        if owned:
            http.close()


def _one_line(error: Exception) -> str:
    text = " ".join(str(error).split())
    return text or type(error).__name__
