"""Run a batch of external commands concurrently under one deadline, and never leave one behind.

Used by the bandit scanner (one process per chunk). On timeout every process still running
is killed, so no scan outlives its budget. And no command outlives shouldi:

* **Parent death.** On Linux each command starts under ``setpriv --pdeathsig KILL`` (util-linux:
  a C program that arms ``PR_SET_PDEATHSIG`` and execs the command, ~10 ms), or, without
  setpriv, under a three-line Python launcher doing the same through ctypes and checking
  that its parent is still alive. The kernel then kills the command when the thread that
  started it ends, which is this batch's own worker thread (it lives until the command is
  reaped) or the whole process on SIGKILL. ``preexec_fn`` would do it in one line but is not
  safe in a threaded program (the child can deadlock before ``exec``).
* **Stopping.** Every live batch is registered with
  :func:`shouldi.dataflow.pool.on_stop`: when shouldi is stopped by a signal, its commands
  are killed at once and the batch fails with "stopped", instead of the stop waiting for
  bandit to finish a large tree.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from shouldi.dataflow.pool import on_stop
from shouldi.scanners.errors import ScannerError, ScannerTimeout

__all__ = ["launcher", "run_all", "stop_all"]

Output = tuple[int, bytes, bytes]

#: Arms the parent-death signal, refuses to run orphaned, then becomes the command.
_LAUNCH = (
    "import ctypes,os,sys\n"
    "ctypes.CDLL(None,use_errno=True).prctl(1,9,0,0,0)\n"
    "os.getppid()==int(sys.argv[1]) or os._exit(70)\n"
    "os.execvp(sys.argv[2],sys.argv[2:])\n"
)
_LIVE: weakref.WeakSet[_Batch] = weakref.WeakSet()
_LIVE_LOCK = threading.Lock()


def launcher() -> list[str]:
    """The command prefix that ties a child to this process's life (empty off Linux)."""
    if not sys.platform.startswith("linux"):
        return []
    return _setpriv() or [sys.executable, "-I", "-S", "-c", _LAUNCH, str(os.getpid())]


@functools.lru_cache(maxsize=1)
def _setpriv() -> list[str] | None:
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    try:
        done = subprocess.run([setpriv, "--help"], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return [setpriv, "--pdeathsig", "KILL", "--"] if b"--pdeathsig" in done.stdout else None


class _Cancelled(Exception):
    """This command was stopped because the batch failed elsewhere."""


class _Batch:
    def __init__(self, cwd: Path, deadline: float) -> None:
        self.cwd, self.deadline = cwd, deadline
        self.lock = threading.RLock()  # RLock: stop_all may run while this thread holds it
        self.live: set[subprocess.Popen[bytes]] = set()
        self.failure: ScannerError | None = None
        self.prefix = launcher()

    def fail(self, failure: ScannerError) -> None:
        """Remember the first failure and kill every running process."""
        with self.lock:
            if self.failure is None:
                self.failure = failure
            for proc in self.live:
                proc.kill()

    def run(self, command: Sequence[str], timeout_error: ScannerTimeout) -> Output:
        with self.lock:
            if self.failure is not None:
                raise _Cancelled
            try:
                proc = subprocess.Popen(
                    [*self.prefix, *command], cwd=self.cwd, stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                )
            except OSError as e:
                raise ScannerError(f"cannot start {command[0]}: {e}") from e
            self.live.add(proc)
        with proc:
            try:
                out, err = proc.communicate(timeout=max(0.0, self.deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.fail(timeout_error)
                proc.communicate()
                raise _Cancelled from None
            finally:
                with self.lock:
                    self.live.discard(proc)
        if self.failure is not None:
            raise _Cancelled
        return proc.returncode, out, err


def stop_all() -> None:
    """Kill the commands of every running batch; each batch fails with "stopped"."""
    with _LIVE_LOCK:
        batches = list(_LIVE)
    for batch in batches:
        batch.fail(ScannerError("stopped: shouldi is shutting down"))


on_stop(stop_all)


def run_all(
    commands: Sequence[Sequence[str]], cwd: Path, timeout: float, workers: int, what: str
) -> list[Output]:
    """Run ``commands`` (at most ``workers`` at a time); return ``(code, stdout, stderr)`` each.

    Raises :class:`ScannerTimeout` ("<what> timed out after N s") when the whole batch
    exceeds ``timeout`` seconds, or the :class:`ScannerError` of a command that could not
    start (or "stopped" when shouldi is stopping); either way every other process of the
    batch is killed first.
    """
    batch = _Batch(cwd, time.monotonic() + timeout)
    timeout_error = ScannerTimeout(f"{what} timed out after {timeout:g} s")
    with _LIVE_LOCK:
        _LIVE.add(batch)
    try:
        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(commands)))) as pool:
            futures = [pool.submit(batch.run, command, timeout_error) for command in commands]
            outputs: list[Output] = []
            for future in futures:
                try:
                    outputs.append(future.result())
                except ScannerError as e:
                    batch.fail(e)
                except _Cancelled:
                    pass
    finally:
        with _LIVE_LOCK:
            _LIVE.discard(batch)
    if batch.failure is not None:
        raise batch.failure
    return outputs
