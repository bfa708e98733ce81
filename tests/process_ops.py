"""Operations that keep child processes busy, for the tests that kill their parent.

``burn`` runs in the process pool (and leaves ``burning-<pid>`` in ``$SHOULDI_TEST_CLEANED``
once it really runs there); ``external`` runs a long command through
``shouldi.scanners._procs.run_all`` (as bandit does); ``tidy`` is a cleanup operation that
leaves ``cleaned`` there to show that a stop was orderly.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import NewType

from shouldi.dataflow import op

Seconds = NewType("Seconds", float)
Burned = NewType("Burned", float)
Ran = NewType("Ran", int)


@op(executor="process")
def burn(seconds: Seconds) -> Burned:
    Path(os.environ["SHOULDI_TEST_CLEANED"], f"burning-{os.getpid()}").touch()
    end = time.monotonic() + seconds
    while time.monotonic() < end:  # busy, as a scan is
        sum(range(10_000))
    return Burned(seconds)


@op
def external(seconds: Seconds) -> Ran:
    from shouldi.scanners._procs import run_all

    command = [sys.executable, "-c", f"import time; time.sleep({seconds})"]
    (code, _out, _err), = run_all([command], Path.cwd(), timeout=seconds * 2, workers=1,
                                  what="sleeper")
    return Ran(code)


@op(stage="cleanup")
def tidy(seconds: Seconds) -> None:
    Path(os.environ["SHOULDI_TEST_CLEANED"], "cleaned").write_text("yes")
