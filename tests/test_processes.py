"""No child process outlives shouldi, whatever signal ends it.

Real processes only: a parent is started with a marker in its environment, waited for until
its children are busy (pool workers, external commands), killed with SIGKILL, SIGTERM or
SIGINT; then /proc must hold no live process with the marker within a few seconds. The
bug this reproduces: after SIGKILL or SIGTERM of ``shouldi scan``, the multiprocessing fork
server, its resource tracker and the pool workers stayed alive for good.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent

pytestmark = pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc")


def marked(token: str) -> dict[int, str]:
    """Live (not zombie) processes whose environment holds the marker, with their command."""
    needle = f"SHOULDI_TEST_MARK={token}".encode()
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if needle not in Path(f"/proc/{entry}/environ").read_bytes().split(b"\0"):
                continue
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
            command = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if state not in ("Z", "X"):
            found[int(entry)] = command.decode(errors="replace")
    return found


def wait_until(condition: Callable[[], bool], timeout: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


def start(argv: list[str], token: str, tmp_path: Path, **env: str) -> subprocess.Popen[bytes]:
    environ = {**os.environ, "SHOULDI_TEST_MARK": token, "PYTHONPATH": f"{ROOT}:{TESTS}", **env}
    with (tmp_path / "stderr").open("wb") as stderr:
        return subprocess.Popen(argv, cwd=tmp_path, env=environ, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=stderr)


def kill_and_check(proc: subprocess.Popen[bytes], token: str, signum: int) -> float:
    """Send ``signum``; every marked process must be gone within 10 s. Returns the seconds."""
    sent = time.monotonic()
    proc.send_signal(signum)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        pytest.fail(f"the parent did not exit within 15 s of {signal.Signals(signum).name}")
    gone = wait_until(lambda: not marked(token), timeout=10)
    survivors = marked(token)
    for pid in survivors:  # leave nothing behind, even when failing
        os.kill(pid, signal.SIGKILL)
    assert gone, f"survived {signal.Signals(signum).name} of their parent: {survivors}"
    return time.monotonic() - sent


def burning(where: Path) -> int:
    """How many pool workers are running ``burn`` (past start-up, inside the work)."""
    return len(list(where.glob("burning-*")))


DRIVER = textwrap.dedent("""
    import asyncio, sys
    from process_ops import Seconds, burn, external, tidy
    from shouldi.dataflow import DataFlow, Orchestrator
    from shouldi.dataflow.pool import Interrupted, stop_on_signals

    flow = DataFlow.build([burn, external, tidy], seeds=[Seconds])

    async def main():
        async with stop_on_signals():
            async with Orchestrator(flow, process_workers=2) as orch:
                await orch.run({"a": {Seconds: 120.0}, "b": {Seconds: 120.0}})

    if __name__ == "__main__":  # spawned workers import this module too
        try:
            asyncio.run(main())
        except Interrupted as e:
            sys.exit(128 + e.signum)
""")


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT],
                         ids=["SIGKILL", "SIGTERM", "SIGINT"])
def test_pool_workers_and_external_commands_die_with_the_engine(tmp_path, signum):
    token = uuid.uuid4().hex
    (tmp_path / "driver.py").write_text(DRIVER)
    proc = start([sys.executable, "driver.py"], token, tmp_path, SHOULDI_TEST_CLEANED=str(tmp_path))

    def busy() -> bool:
        sleepers = sum("time.sleep(120.0)" in c for c in marked(token).values())
        return burning(tmp_path) == 2 and sleepers == 2

    assert wait_until(busy, timeout=60), (marked(token), (tmp_path / "stderr").read_text())
    seconds = kill_and_check(proc, token, signum)
    if signum == signal.SIGKILL:
        assert proc.returncode == -signal.SIGKILL
    else:  # an orderly stop: exit code 128 + signal, cleanup ran, and no waiting for the work
        assert proc.returncode == 128 + signum, (tmp_path / "stderr").read_text()
        assert (tmp_path / "cleaned").read_text() == "yes"
        assert seconds < 10
        assert "Traceback" not in (tmp_path / "stderr").read_text()


THREADED_DRIVER = DRIVER.replace(
    "    try:\n        asyncio.run(main())",
    "    try:\n        import threading\n"
    "        runner = threading.Thread(target=asyncio.run, args=(main(),))\n"
    "        runner.start()\n        runner.join()",
)


def test_workers_of_a_pool_made_off_the_main_thread_die_too(tmp_path):
    """There the kernel's parent-death signal is not armed (it follows the thread that forked,
    which may end first): the watchdog on the parent's pipe must end the workers."""
    assert "runner.join()" in THREADED_DRIVER
    token = uuid.uuid4().hex
    (tmp_path / "driver.py").write_text(THREADED_DRIVER)
    proc = start([sys.executable, "driver.py"], token, tmp_path, SHOULDI_TEST_CLEANED=str(tmp_path))

    def busy() -> bool:
        return burning(tmp_path) == 2

    assert wait_until(busy, timeout=60), (marked(token), (tmp_path / "stderr").read_text())
    kill_and_check(proc, token, signal.SIGKILL)


def big_package(count: int = 400) -> dict[str, str]:
    """Enough Python that bandit and the heuristics run for a while (never executed)."""
    body = "\n".join(
        f"def handler_{i}(request, value):\n"
        f"    data = {{'key': value, 'n': {i}}}\n"
        f"    if request.method == 'POST':\n"
        f"        return [x * {i} for x in range(len(data))]\n"
        f"    return str(data).upper()\n"
        for i in range(60)
    )
    return {f"bigpkg/mod{i}.py": body for i in range(count)}


def scan_argv(index_url: str, tmp_path: Path) -> list[str]:
    return [sys.executable, "-m", "shouldi", "scan", "zq-bigpkg==1.0", "--index-url", index_url,
            "--no-cache", "--no-pip-audit",
            "--no-safety-cli", "--timeout", "5"]


def scanning(token: str) -> Callable[[], bool]:
    def busy() -> bool:
        commands = marked(token).values()
        return (any("multiprocessing.spawn" in c or "forkserver" in c for c in commands)
                and any("bandit" in c for c in commands))

    return busy


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_nothing_survives_a_killed_shouldi_scan(local_index, tmp_path, signum):
    local_index.add_sdist(big_package(), "zq-bigpkg", "1.0")
    token = uuid.uuid4().hex
    proc = start(scan_argv(local_index.url, tmp_path), token, tmp_path)
    assert wait_until(scanning(token), timeout=90), (marked(token),
                                                     (tmp_path / "stderr").read_text())
    time.sleep(0.5)  # let the workers settle into their scans
    kill_and_check(proc, token, signum)


@pytest.mark.slow
def test_sigterm_stops_shouldi_scan_in_order(local_index, tmp_path):
    """Children gone (as above), and also: cleanup ran, scratch removed, exit 128 + 15."""
    local_index.add_sdist(big_package(), "zq-bigpkg", "1.0")
    token = uuid.uuid4().hex
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    proc = start(scan_argv(local_index.url, tmp_path), token, tmp_path, TMPDIR=str(scratch))
    assert wait_until(scanning(token), timeout=90), (tmp_path / "stderr").read_text()
    seconds = kill_and_check(proc, token, signal.SIGTERM)
    assert proc.returncode in (128 + signal.SIGTERM, 130), proc.returncode
    assert seconds < 10
    assert list(scratch.iterdir()) == []


# --- a long TMPDIR ---------------------------------------------------------------------------

LONG_TMPDIR_CHILD = textwrap.dedent("""
    import json, multiprocessing.util, os, stat, tempfile
    from dataflow_ops import Number, Pid, where_am_i
    from shouldi.dataflow import DataFlow, run_flow
    from shouldi.dataflow.pool import short_private_dir

    if __name__ == "__main__":
        result = run_flow(DataFlow.build([where_am_i], seeds=[Number]), {"a": {Number: 1}})
        private = short_private_dir()
        print(json.dumps({
            "failures": [f.message for f in result["a"].failures],
            "worker": result["a"].get(Pid, None), "me": os.getpid(),
            "tempdir": tempfile.gettempdir(), "private": str(private),
            "mode": stat.S_IMODE(private.stat().st_mode),
            "mp_tempdir": multiprocessing.util.get_temp_dir(),
        }))
""")


def test_a_long_tmpdir_does_not_break_the_process_pool(tmp_path):
    """AF_UNIX paths hold 107 bytes: a fork server under a 150-character TMPDIR could not start."""
    import json

    long_tmp = tmp_path / ("t" * 60) / ("m" * 60)
    long_tmp.mkdir(parents=True)
    assert len(str(long_tmp)) > 130
    (tmp_path / "child.py").write_text(LONG_TMPDIR_CHILD)
    env = {**os.environ, "TMPDIR": str(long_tmp), "PYTHONPATH": f"{ROOT}:{TESTS}"}
    done = subprocess.run([sys.executable, "child.py"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["failures"] == []
    assert seen["worker"] not in (None, seen["me"])
    assert seen["tempdir"] == str(long_tmp)  # scratch still goes where the user asked
    assert len(seen["private"]) < 40 and seen["mode"] == 0o700
    assert seen["mp_tempdir"] == seen["private"]
    assert not Path(seen["private"]).exists()  # removed at exit


CONSOLE_SCRIPT = Path(sys.executable).with_name("shouldi")


@pytest.mark.slow
@pytest.mark.parametrize("launch", [
    [sys.executable, "-m", "shouldi"],
    pytest.param([str(CONSOLE_SCRIPT)], marks=pytest.mark.skipif(
        not CONSOLE_SCRIPT.exists(), reason="shouldi is not installed in this environment")),
], ids=["python-m", "console-script"])  # spawned workers import the main module of each
def test_shouldi_scan_under_a_long_tmpdir_is_not_an_error(local_index, tmp_path, launch):
    long_tmp = tmp_path / ("t" * 60) / ("m" * 60)
    long_tmp.mkdir(parents=True)
    local_index.add_sdist({"zq_tiny/__init__.py": "X = 1\n"}, "zq-tiny", "1.0")
    env = {**os.environ, "TMPDIR": str(long_tmp), "PYTHONPATH": str(ROOT)}
    argv = [*launch, "scan", "zq-tiny==1.0", "--index-url", local_index.url,
            "--no-cache", "--no-pip-audit",
            "--no-safety-cli", "--timeout", "5"]
    done = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert "AF_UNIX" not in done.stdout + done.stderr
    row = next(line for line in done.stdout.splitlines() if line.startswith("zq-tiny"))
    assert row.split()[2] != "error", done.stdout
    assert list(long_tmp.iterdir()) == []  # scratch dirs made there are gone


def test_hermetic_tests_cannot_look_up_a_host_name():
    """conftest's guard: a name lookup outside an ``online`` test fails as an unknown name."""
    import socket

    with pytest.raises(socket.gaierror, match="hermetic test"):
        socket.getaddrinfo("pypi.org", 443)
    assert socket.getaddrinfo("127.0.0.1", 80)
