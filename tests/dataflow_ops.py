"""Small operations for the engine tests (module level, so flows export by import path)."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from pathlib import Path
from typing import NewType

from shouldi.dataflow import define, op

Number = NewType("Number", int)
Doubled = NewType("Doubled", int)
Squared = NewType("Squared", int)
Summed = NewType("Summed", int)
Label = NewType("Label", str)
Flag = NewType("Flag", bool)
Note = NewType("Note", str)
Shared = define(NewType("Shared", Path), lock=True)
Touched = NewType("Touched", str)
Pid = NewType("Pid", int)


@op
async def double(n: Number) -> Doubled:
    return Doubled(n * 2)


@op
async def square(n: Number) -> Squared:
    return Squared(n * n)


@op
async def add(d: Doubled, s: Squared) -> Summed:
    return Summed(d + s)


@op
def label(total: Summed, note: Note = Note("none")) -> Label:
    return Label(f"{total}:{note}")


@op(executor="process")
def where_am_i(n: Number) -> Pid:
    return Pid(os.getpid())


@op(conditions=[Flag])
async def flagged(n: Number) -> Note:
    return Note(f"flagged {n}")


class Probe:
    """Records how many callers are inside at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.active = 0
        self.peak = 0
        self.calls = 0

    def enter(self) -> None:
        with self.lock:
            self.active += 1
            self.calls += 1
            self.peak = max(self.peak, self.active)

    def leave(self) -> None:
        with self.lock:
            self.active -= 1


SLOW = Probe()


@op
async def slow_a(n: Number) -> Doubled:
    SLOW.enter()
    await asyncio.sleep(0.2)
    SLOW.leave()
    return Doubled(n)


@op
def slow_b(n: Number) -> Squared:
    SLOW.enter()
    time.sleep(0.2)
    SLOW.leave()
    return Squared(n)
