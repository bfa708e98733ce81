"""Run a batch of external commands concurrently under one deadline.

Used by the bandit scanner (one process per chunk). On timeout every process still running
is killed, so no scan outlives its budget.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from shouldi.scanners.errors import ScannerError, ScannerTimeout

__all__ = ["run_all"]

Output = tuple[int, bytes, bytes]


class _Cancelled(Exception):
    """This command was stopped because the batch failed elsewhere."""


class _Batch:
    def __init__(self, cwd: Path, deadline: float) -> None:
        self.cwd, self.deadline = cwd, deadline
        self.lock = threading.Lock()
        self.live: set[subprocess.Popen[bytes]] = set()
        self.failure: ScannerError | None = None

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
                    command, cwd=self.cwd, stdin=subprocess.DEVNULL,
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


def run_all(
    commands: Sequence[Sequence[str]], cwd: Path, timeout: float, workers: int, what: str
) -> list[Output]:
    """Run ``commands`` (at most ``workers`` at a time); return ``(code, stdout, stderr)`` each.

    Raises :class:`ScannerTimeout` ("<what> timed out after N s") when the whole batch
    exceeds ``timeout`` seconds, or the :class:`ScannerError` of a command that could not
    start; either way every other process of the batch is killed first.
    """
    batch = _Batch(cwd, time.monotonic() + timeout)
    timeout_error = ScannerTimeout(f"{what} timed out after {timeout:g} s")
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
    if batch.failure is not None:
        raise batch.failure
    return outputs
