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
* **Spares: start-up hidden behind other work.** A ``python -I -m bandit`` process spends
  ~0.5 s of CPU importing bandit and its plugins before it reads a file. A :class:`Spares`
  starts such interpreters ahead of need (while the package downloads and is extracted):
  each imports the module, then waits on stdin for its arguments and working directory and
  runs the module as ``-m`` would (:func:`runpy.run_module` with ``alter_sys``): the same
  program, the same output. :func:`run_all` hands a command of the form ``python -I -m
  MODULE ARGS`` to a spare of that module when one is ready, else starts it as usual.
  Spares carry the parent-death prefix, are started only from the main thread (the signal
  follows the thread that started them), are killed on stop and at exit, and at most
  ``limit`` wait at once.
"""

from __future__ import annotations

import atexit
import functools
import json
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

__all__ = ["Spares", "launcher", "run_all", "stop_all"]

Output = tuple[int, bytes, bytes]

#: A spare: import the module now, then run it as ``-m`` would once told how (one JSON line).
_SPARE = (
    "import importlib,json,os,runpy,sys\n"
    "importlib.import_module(sys.argv[1])\n"
    "job=json.loads(sys.stdin.readline())\n"
    "os.chdir(job['cwd'])\n"
    "sys.argv=[sys.argv[2],*job['args']]\n"
    "runpy.run_module(sys.argv[0],run_name='__main__',alter_sys=True)\n"
)
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

    def run(self, command: Sequence[str], timeout_error: ScannerTimeout,
            spares: Spares | None = None) -> Output:
        job: bytes | None = None
        with self.lock:
            if self.failure is not None:
                raise _Cancelled
            proc = spares.take(command) if spares is not None else None
            if proc is not None:
                args = list(command[len(spares.command()):]) if spares else []
                job = json.dumps({"cwd": os.fspath(self.cwd), "args": args}).encode() + b"\n"
            else:
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
                out, err = proc.communicate(job, timeout=max(0.0, self.deadline - time.monotonic()))
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
    commands: Sequence[Sequence[str]], cwd: Path, timeout: float, workers: int, what: str,
    spares: Spares | None = None,
) -> list[Output]:
    """Run ``commands`` (at most ``workers`` at a time); return ``(code, stdout, stderr)`` each.

    Raises :class:`ScannerTimeout` ("<what> timed out after N s") when the whole batch
    exceeds ``timeout`` seconds, or the :class:`ScannerError` of a command that could not
    start (or "stopped" when shouldi is stopping); either way every other process of the
    batch is killed first. A command that ``spares`` can run goes to a ready spare.
    """
    batch = _Batch(cwd, time.monotonic() + timeout)
    timeout_error = ScannerTimeout(f"{what} timed out after {timeout:g} s")
    with _LIVE_LOCK:
        _LIVE.add(batch)
    try:
        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(commands)))) as pool:
            futures = [pool.submit(batch.run, command, timeout_error, spares)
                       for command in commands]
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


class Spares:
    """Interpreters that have imported ``preload`` and wait to run ``module`` (see the module
    doc). ``preload`` should be what ``module`` imports, not the module run itself (runpy
    warns when the module it runs is already imported): for bandit, ``bandit.cli.main``."""

    def __init__(self, module: str, limit: int, preload: str | None = None) -> None:
        self.module, self.limit = module, limit
        self.preload = preload or module.rpartition(".")[0] or module
        self._idle: list[subprocess.Popen[bytes]] = []
        #: a spare started ahead of any known need (:meth:`prestart_ahead`) still waits
        self._ahead = False
        self._lock = threading.Lock()
        atexit.register(self.close)
        on_stop(self.close)

    def command(self) -> list[str]:
        """The command prefix a spare stands for: ``python -I -m MODULE``."""
        return [sys.executable, "-I", "-m", self.module]

    def prestart(self) -> bool:
        """Start one spare unless ``limit`` are waiting; only from the main thread (else
        nothing: the parent-death signal would fire when the calling thread ends). A spare
        started by :meth:`prestart_ahead` and still waiting stands for the first need said
        after it: that call starts nothing."""
        return self._start(ahead=False)

    def prestart_ahead(self) -> bool:
        """Start one spare before any need is known (the run has only begun: its start-up
        then overlaps the imports as well as the download). The first :meth:`prestart` after
        it is the need it was started for. Nothing when one is already waiting."""
        return self._start(ahead=True)

    def _start(self, ahead: bool) -> bool:
        if threading.current_thread() is not threading.main_thread():
            return False
        with self._lock:
            self._idle = [p for p in self._idle if p.poll() is None]
            if ahead:
                if self._idle:
                    return False  # one waits already
                self._ahead = self._spawn()
                return self._ahead
            if self._ahead and self._idle:
                self._ahead = False  # the need the ahead spare was started for
                return False
            self._ahead = False
            return len(self._idle) < self.limit and self._spawn()

    def _spawn(self) -> bool:
        try:
            proc = subprocess.Popen(
                [*launcher(), sys.executable, "-I", "-c", _SPARE, self.preload, self.module],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            )
        except OSError:
            return False  # no spare: the command starts as usual when it runs
        self._idle.append(proc)
        return True

    def take(self, command: Sequence[str]) -> subprocess.Popen[bytes] | None:
        """A waiting spare for ``command`` (``python -I -m MODULE ...``), or None."""
        if list(command[:4]) != self.command():
            return None
        with self._lock:
            while self._idle:
                proc = self._idle.pop(0)
                if proc.poll() is None:
                    return proc
                _reap(proc)
        return None

    def close(self) -> None:
        """Kill every waiting spare."""
        with self._lock:
            idle, self._idle = self._idle, []
        for proc in idle:
            _reap(proc)


def _reap(proc: subprocess.Popen[bytes]) -> None:
    try:
        proc.kill()
        proc.communicate(timeout=5)
    except (OSError, ValueError, subprocess.SubprocessError):
        pass
