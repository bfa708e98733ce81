"""run_all's commands are tied to shouldi's life, by setpriv or by the Python launcher.

Each command here asks the kernel, from inside, which parent-death signal it carries
(``prctl(PR_GET_PDEATHSIG)``): it must be SIGKILL whichever launcher started it. Killing
the parent for real is tests/test_processes.py's job.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

import pytest

from shouldi.dataflow.pool import stop_children
from shouldi.scanners import _procs
from shouldi.scanners.errors import ScannerError

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux's")

ASK = (
    "import ctypes, os\n"
    "libc = ctypes.CDLL(None)\n"
    "sig = ctypes.c_int()\n"
    "libc.prctl(2, ctypes.byref(sig), 0, 0, 0)\n"  # PR_GET_PDEATHSIG
    "print(sig.value, os.getppid())\n"
)


@pytest.fixture(params=["setpriv", "python"])
def launcher(request, monkeypatch):
    _procs._setpriv.cache_clear()
    if request.param == "python":
        monkeypatch.setattr(_procs.shutil, "which", lambda name: None)
    elif _procs._setpriv() is None:
        pytest.skip("no setpriv with --pdeathsig here")
    yield request.param
    _procs._setpriv.cache_clear()


def test_every_command_carries_the_parent_death_signal(tmp_path, launcher):
    assert (_procs.launcher()[0].endswith("setpriv")) == (launcher == "setpriv")
    (code, out, err), = _procs.run_all([[sys.executable, "-c", ASK]], tmp_path, timeout=60,
                                       workers=1, what="probe")
    assert code == 0, err
    sig, parent = map(int, out.split())
    assert sig == signal.SIGKILL
    assert parent == os.getpid()  # the launcher became the command: no process in between


def test_the_python_launcher_refuses_to_run_orphaned(tmp_path):
    dead_parent = "1"  # whatever our pid is, it is not 1: as if the parent had died already
    command = [sys.executable, "-I", "-S", "-c", _procs._LAUNCH, dead_parent,
               sys.executable, "-c", "print('ran')"]
    import subprocess

    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert (done.returncode, done.stdout) == (70, "")


def test_a_stop_kills_running_commands_at_once(tmp_path):
    outcome: list[BaseException] = []

    def scan() -> None:
        try:
            _procs.run_all([[sys.executable, "-c", "import time; time.sleep(60)"]] * 2, tmp_path,
                           timeout=120, workers=2, what="sleeper")
        except BaseException as e:  # kept for the assertion
            outcome.append(e)

    thread = threading.Thread(target=scan)
    start = time.monotonic()
    thread.start()
    deadline = time.monotonic() + 30
    while not any(b.live for b in list(_procs._LIVE)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert any(len(b.live) == 2 for b in list(_procs._LIVE)), "the commands never started"
    stop_children()
    thread.join(10)
    assert time.monotonic() - start < 10
    assert len(outcome) == 1 and isinstance(outcome[0], ScannerError)
    assert str(outcome[0]) == "stopped: shouldi is shutting down"
    assert not _procs._LIVE
