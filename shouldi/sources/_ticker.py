"""Time-based checkpoints that happen even while the caller is busy.

A scan writes a record, then may spend minutes on the next package. Checking the clock only
inside ``write()`` would leave the last records unpublished for that whole time, so a writer
runs a :class:`Ticker`: a daemon thread that calls its ``tick`` every ``seconds``. The owner
serialises ``tick`` with its own writes (a lock) and re-raises :attr:`Ticker.error` itself,
so nothing escapes from the thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

__all__ = ["Ticker"]


class Ticker:
    """Call ``tick`` every ``seconds`` on a daemon thread until :meth:`stop`."""

    def __init__(self, seconds: float, tick: Callable[[], None]) -> None:
        self.error: Exception | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(seconds, tick), name="shouldi-checkpoint", daemon=True
        )
        self._thread.start()

    def _run(self, seconds: float, tick: Callable[[], None]) -> None:
        while not self._stop.wait(seconds):
            try:
                tick()
            except Exception as e:  # kept for the owner to raise in its own thread
                self.error = e
                return

    def stop(self) -> None:
        """Stop and wait for a running tick. Call it without holding the owner's lock."""
        self._stop.set()
        self._thread.join()
