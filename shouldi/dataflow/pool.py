"""The process pool of ``executor="process"`` operations, and how every child process ends.

The rule: **no process shouldi starts outlives it**, whatever signal ends it (SIGKILL,
SIGTERM, SIGINT), and a stopped run stops its children at once instead of waiting for them.
Measured before this module: after SIGKILL or SIGTERM of ``shouldi scan`` the multiprocessing
fork server, its resource tracker and the pool workers (~95 MB each) stayed alive for good.

* **"spawn", not "forkserver".** A fork server's workers are *its* children, so a parent-death
  signal in them watches the server, not us; the server exits only once every worker has
  closed its "alive" pipe (they all inherit it), so nothing ever exits; and it listens on an
  ``AF_UNIX`` socket under ``$TMPDIR``, whose path may not exceed 107 bytes (a long TMPDIR
  made every scan ``error``). Spawned workers are our own children and talk over pipes; each
  costs one interpreter start (~0.1 s), once per run.
* **Workers die with their parent, twice over.** On Linux each worker arms
  ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` (by ctypes) first thing, then exits if its parent is
  already gone (it could have died before the call). The kernel sends that signal when the
  *thread* that started the worker ends, so it is armed only for pools made in the main
  thread. Everywhere, a watchdog thread in each worker waits on multiprocessing's parent
  sentinel (a pipe that reaches EOF when the parent is gone, however it died) and ends the
  worker: that covers other systems and other threads (but not a worker stuck in C code
  holding the GIL, which only the kernel signal stops). Workers ignore SIGINT: a terminal's
  Ctrl-C reaches the whole process group, and the parent decides what stops.
* **The resource tracker** (multiprocessing's helper for semaphores) exits when the last
  process holding its pipe is gone, i.e. once the parent and the workers are.
* **Shutdown stops running work.** :meth:`ProcessPool.shutdown` with ``cancel_futures=True``
  (what the orchestrator calls on close) kills workers that are still busy: after a
  cancellation nobody awaits their results, and a heuristics scan could run for minutes.
* **Signals are an orderly stop.** Inside ``async with stop_on_signals():`` SIGTERM and SIGINT
  kill the external processes registered with :func:`on_stop` (bandit's), cancel the task
  (so cleanup operations run and scratch dirs are removed) and surface as
  :class:`Interrupted`, a ``KeyboardInterrupt`` carrying the signal number.
* **Short private paths.** :func:`short_private_dir` makes a 0700 directory under the
  shortest usable temp base (``$TMPDIR`` when short enough, else ``/tmp``...), and it becomes
  multiprocessing's temp dir, where any socket it ever needs would live.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import ctypes
import ctypes.util
import multiprocessing
import multiprocessing.connection
import multiprocessing.process
import os
import signal
import sys
import tempfile
import threading
from collections.abc import AsyncIterator, Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

__all__ = [
    "Interrupted",
    "ProcessPool",
    "make_process_pool",
    "on_stop",
    "set_parent_death_signal",
    "short_private_dir",
    "stop_children",
    "stop_on_signals",
]

_PR_SET_PDEATHSIG = 1
#: Longest temp base we use: leaves room for "/shouldi-XXXXXXXX/" and a socket name within
#: the 107 bytes of sun_path.
_MAX_BASE = 64
_STOPPERS: dict[int, Callable[[], None]] = {}
_STOPPERS_LOCK = threading.Lock()
_SHORT_DIR: list[Path] = []


class Interrupted(KeyboardInterrupt):
    """The run was stopped by a signal (``signum``); a ``KeyboardInterrupt``, so it unwinds alike."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def set_parent_death_signal(sig: int = signal.SIGKILL) -> bool:
    """Ask the kernel to send ``sig`` to this process when its parent (thread) dies.

    Linux only (``prctl``); returns whether it was armed. Not inherited by forked children,
    kept across ``exec``.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        return int(libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent() -> None:
    parent = multiprocessing.parent_process()
    if parent is None or parent.sentinel is None:
        return
    multiprocessing.connection.wait([parent.sentinel])  # returns at EOF: the parent is gone
    os._exit(70)  # no cleanup: the work is abandoned and its scratch dir belongs to the parent


def _init_worker(parent_pid: int, arm_pdeathsig: bool) -> None:
    """Run first in every worker (see the module doc)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if arm_pdeathsig:
        set_parent_death_signal()
    if os.getppid() != parent_pid:  # the parent died before the signal was armed
        os._exit(70)
    threading.Thread(target=_watch_parent, name="shouldi-parent-watchdog", daemon=True).start()


class ProcessPool(ProcessPoolExecutor):
    """A :class:`ProcessPoolExecutor` whose ``shutdown(cancel_futures=True)`` also stops running work."""

    def __init__(self, max_workers: int | None = None) -> None:
        arm = threading.current_thread() is threading.main_thread()
        super().__init__(
            max_workers=max_workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(os.getpid(), arm),
        )
        self._live: set[Future[Any]] = set()
        self._live_lock = threading.Lock()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future = super().submit(fn, *args, **kwargs)
        with self._live_lock:
            self._live.add(future)
        future.add_done_callback(self._forget)
        return future

    def _forget(self, future: Future[Any]) -> None:
        with self._live_lock:
            self._live.discard(future)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if cancel_futures:
            with self._live_lock:
                busy = any(not f.done() for f in self._live)
            if busy:
                self.kill_workers()
        super().shutdown(wait=wait, cancel_futures=cancel_futures)

    def kill_workers(self) -> None:
        """SIGKILL every worker now; their futures fail with ``BrokenProcessPool``."""
        processes: dict[int, Any] = getattr(self, "_processes", None) or {}  # the stdlib's table
        for process in list(processes.values()):
            with contextlib.suppress(OSError, ValueError):  # already gone or closed
                process.kill()


def make_process_pool(max_workers: int | None = None) -> ProcessPool:
    """The pool for ``executor="process"`` operations, made as the module doc says."""
    short_private_dir()
    return ProcessPool(max_workers)


def short_private_dir() -> Path:
    """A private (0700) directory with a short path, made once per process, removed at exit.

    It also becomes multiprocessing's temp dir (for sockets it may create), unless that was
    already chosen.
    """
    if _SHORT_DIR:
        return _SHORT_DIR[0]
    # named as shouldi.archive.scratch names its directories, so a killed run's is swept later
    path = Path(tempfile.mkdtemp(prefix=f"shouldi-{os.getpid()}-", dir=_short_base()))
    _SHORT_DIR.append(path)
    atexit.register(_remove_dir, path)
    config = multiprocessing.process.current_process()._config  # type: ignore[attr-defined]
    config.setdefault("tempdir", str(path))  # what multiprocessing.util.get_temp_dir() reads
    return path


def _short_base() -> str:
    candidates = [tempfile.gettempdir(), "/tmp", "/var/tmp", "/dev/shm"]  # noqa: S108 - fallbacks
    for base in candidates:
        if len(base) <= _MAX_BASE and Path(base).is_dir() and os.access(base, os.W_OK | os.X_OK):
            return base
    return tempfile.gettempdir()  # nothing shorter: sockets may then fail, scratch will not


def _remove_dir(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def on_stop(callback: Callable[[], None]) -> Callable[[], None]:
    """Register ``callback`` to run when the process is stopped by a signal; returns an undo.

    For work that runs outside the pool (external commands): the callback should kill it.
    It runs in the event loop's thread and must not block.
    """
    key = id(callback)
    with _STOPPERS_LOCK:
        _STOPPERS[key] = callback

    def undo() -> None:
        with _STOPPERS_LOCK:
            _STOPPERS.pop(key, None)

    return undo


def stop_children() -> None:
    """Run every :func:`on_stop` callback (errors are ignored: stopping must go on)."""
    with _STOPPERS_LOCK:
        callbacks = list(_STOPPERS.values())
    for callback in callbacks:
        with contextlib.suppress(Exception):
            callback()


@contextlib.asynccontextmanager
async def stop_on_signals(
    signals: Iterable[int] = (signal.SIGINT, signal.SIGTERM),
) -> AsyncIterator[None]:
    """Inside the block, each of ``signals`` stops children and cancels the current task.

    The cancellation unwinds the block normally (cleanup operations run); on the way out it
    becomes :class:`Interrupted`. Where the loop cannot take signal handlers (not the main
    thread, Windows), or a signal already has a handler another part of the process set (a
    server's: uvicorn stops itself, and cancels this task, on Ctrl-C), the block runs
    unchanged for that signal.
    """
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    received: list[int] = []

    def on_signal(signum: int) -> None:
        received.append(signum)
        stop_children()
        if task is not None:
            task.cancel()

    installed = []
    for signum in signals:
        if not _unclaimed(signum):
            continue  # a server's own handler (uvicorn's): it stops the server, our task with it
        try:
            loop.add_signal_handler(signum, on_signal, signum)
        except (ValueError, RuntimeError, NotImplementedError):  # not the main thread / OS
            continue
        installed.append(signum)
    try:
        yield
    except asyncio.CancelledError:
        if received:
            _uncancel(task)
            raise Interrupted(received[0]) from None
        raise
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)
    if received:  # the signal came as the block finished: still a stop
        _uncancel(task)
        raise Interrupted(received[0])


def _unclaimed(signum: int) -> bool:
    """Whether ``signum`` has Python's default disposition (or asyncio's), not a handler
    another part of the process installed: taking that would leave it without its signal
    (``shouldi serve``: Ctrl-C stopped the check, not the server, with tracebacks)."""
    try:
        current = signal.getsignal(signum)
    except (ValueError, OSError):
        return False
    if current in (signal.SIG_DFL, signal.SIG_IGN, signal.default_int_handler, None):
        return True
    # asyncio's own: asyncio.run's Ctrl-C handler (a partial of Runner._on_sigint), a loop's
    func = getattr(current, "func", current)
    return str(getattr(func, "__module__", "")).startswith("asyncio.")


def _uncancel(task: asyncio.Task[Any] | None) -> None:
    """Withdraw our cancellation request (Python 3.11+), so only :class:`Interrupted` remains."""
    uncancel = getattr(task, "uncancel", None)
    if uncancel is not None:
        uncancel()
