"""What a running service is given: the check settings plus where and how it listens.

Validated once, when built (:meth:`ServiceConfig.build`), so that a bad combination stops
``shouldi serve`` before it binds a port, with a one-line usage error (exit 2):

- a bind address that is not loopback needs a token (``--token-file``): a firewall and a
  check API open to the network without authentication is refused, not warned about;
- the token file must be a readable regular file holding one token of at least 16
  printable characters (the token is never logged, never echoed in errors);
- ``--no-cache`` is refused: files are served from the verified artifact cache, and a
  firewall that had to download every file twice would be a worse one;
- an upstream that is this very service (``PIP_INDEX_URL`` pointing at the firewall) would
  make every request wait on itself: refused.
"""

from __future__ import annotations

import ipaddress
import stat
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from shouldi.errors import UsageError
from shouldi.settings import Settings

__all__ = ["DEFAULT_PORT", "ServiceConfig", "ServiceConfigError", "is_loopback", "read_token"]

DEFAULT_PORT = 8080
_MIN_TOKEN = 16
_MAX_TOKEN_FILE = 4096


class ServiceConfigError(UsageError):
    """A service option that cannot be used (exit 2)."""


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` listens on this machine only (``localhost`` or 127/8, ::1)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def read_token(path: Path) -> str:
    """The bearer token in ``path`` (surrounding whitespace stripped)."""
    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):
            raise ServiceConfigError(f"--token-file {path}: not a regular file")
        if st.st_size > _MAX_TOKEN_FILE:
            raise ServiceConfigError(f"--token-file {path}: larger than {_MAX_TOKEN_FILE} bytes")
        text = path.read_text(encoding="utf-8").strip()
    except UnicodeDecodeError as e:
        raise ServiceConfigError(f"--token-file {path}: not UTF-8 text") from e
    except OSError as e:
        raise ServiceConfigError(f"--token-file {path}: {e.strerror or e}") from e
    if len(text) < _MIN_TOKEN or any(not c.isprintable() or c.isspace() for c in text):
        raise ServiceConfigError(f"--token-file {path}: expected one token of at least {_MIN_TOKEN} "
                                 "printable characters without spaces")
    return text


def token_file_warning(path: Path) -> str | None:
    """A warning when others may read the token file (as ssh says for keys)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    if mode & 0o077:
        return f"warning: --token-file {path} is readable by others (chmod 600 {path})"
    return None


@dataclass(frozen=True)
class ServiceConfig:
    """Everything ``shouldi serve`` runs with. ``settings.index_url`` is the upstream.

    ``judge_wait``: seconds a download waits for the first judgement of its file before a
    503 with ``Retry-After`` (the judgement goes on). ``check_wait``: seconds ``POST
    /v1/check`` waits before answering 503 (the check goes on as a job). ``max_checks``:
    flow runs at once (a semaphore); ``max_waiting``: requests queued for one before 503.
    """

    settings: Settings
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    workers: int = 1
    token: str | None = None
    state_path: Path | None = None
    max_body: int = 1 << 20
    max_specs: int = 100
    max_checks: int = 2
    max_waiting: int = 256
    judge_wait: float = 10.0
    check_wait: float = 300.0
    page_ttl: float = 60.0

    @property
    def upstream(self) -> str:
        return self.settings.index_url

    @property
    def state_file(self) -> Path:
        if self.state_path is not None:
            return self.state_path
        from shouldi.cache.paths import data_dir

        return data_dir() / "service.sqlite"

    def check(self) -> ServiceConfig:
        """Refuse what cannot be served safely; returns ``self``."""
        if self.token is None and not is_loopback(self.host):
            raise ServiceConfigError(
                f"--host {self.host} listens beyond this machine: give --token-file (a bearer "
                "token every request must carry), or bind 127.0.0.1")
        if self.settings.no_cache:
            raise ServiceConfigError("--no-cache: shouldi serve serves files from the verified "
                                     "artifact cache, it cannot run without it")
        if not 0 <= self.port <= 65535:
            raise ServiceConfigError(f"--port {self.port}: expected 0 to 65535")
        if not 1 <= self.workers <= 64:
            raise ServiceConfigError(f"--workers {self.workers}: expected 1 to 64")
        self._check_not_self()
        return self

    def _check_not_self(self) -> None:
        up = urlsplit(self.upstream)
        port = up.port or (443 if up.scheme == "https" else 80)
        same_host = (up.hostname or "").lower() in {self.host.lower(), "localhost"} or (
            is_loopback(up.hostname or "") and is_loopback(self.host))
        if same_host and port == self.port:
            raise ServiceConfigError(
                f"the upstream {self.upstream} is this service itself (is $PIP_INDEX_URL set to "
                "it?): give --upstream the index to proxy")

