"""How many connections each worker of one server holds, shared between the workers through a small file, and
which core each worker runs on.

A worker that holds more connections than another leaves a new connection to it (fair_loop.TurnTakingLoop).
Taking turns alone dealt a burst of 32 connections out 14/18 or 13/19 about one time in three, and every request
on the busier worker then waits for its extra connections, for as long as they stay open.

The supervisor creates the file (`create`) and names it in the environment its worker processes inherit. Each
worker claims a slot by locking one byte of the file; the lock goes with the process, so a slot whose byte is not
locked belongs to no live worker and is not counted, and a worker started again in its place takes it over.

With no more workers than cores, worker N keeps to core N (the supervisor lists them in the environment).
Left to the scheduler, one worker's requests sometimes waited twice as long as the other's for seconds at a
time (its share of a core dropped): p99 27, 25, 34, 32 ms pinned against 38, 28, 28, 44 ms in alternating
runs (BENCHMARKS.md). INCENTIVES_WEB_PIN=0 leaves the workers to the scheduler.
"""

from __future__ import annotations

import mmap
import os
import tempfile
from contextlib import contextmanager
from typing import Iterator

try:
    import fcntl
except ImportError:  # not on Windows: the workers there take turns only
    fcntl = None

ENVIRONMENT_VARIABLE = "INCENTIVES_WORKER_LEDGER"
CORES_VARIABLE = "INCENTIVES_WORKER_CORES"  # "0,1": the core of the worker in slot 0, slot 1, ...
_SLOT_BYTES = 8


def cores_for(workers: int) -> list[int]:
    """The core for each of `workers` workers, or [] to leave them to the scheduler: more workers than cores,
    no way to pin here, or INCENTIVES_WEB_PIN=0."""
    if os.environ.get("INCENTIVES_WEB_PIN", "1") == "0" or not hasattr(os, "sched_setaffinity"):
        return []
    cores = sorted(os.sched_getaffinity(0))
    return cores[:workers] if 1 < workers <= len(cores) else []


@contextmanager
def create(workers: int) -> Iterator[str]:
    """A new, empty ledger file for one server's `workers` workers, named in the environment (with their cores)
    while the server runs."""
    if fcntl is None:
        yield ""
        return
    descriptor, path = tempfile.mkstemp(prefix="incentives-workers-", suffix=".ledger")
    settings = {ENVIRONMENT_VARIABLE: path, CORES_VARIABLE: ",".join(map(str, cores_for(workers)))}
    previous = {name: os.environ.get(name) for name in settings}
    try:
        os.ftruncate(descriptor, max(workers, 1) * _SLOT_BYTES)  # a slot per worker
        os.close(descriptor)
        os.environ.update(settings)
        yield path
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


class Ledger:
    """This worker's slot in the ledger file at `path` (one slot per worker of the server). Raises OSError if
    the file is unusable or every slot is taken."""

    def __init__(self, path: str):
        if fcntl is None:
            raise OSError("no POSIX file locks here")
        self._descriptor = os.open(path, os.O_RDWR)
        try:
            self.slots = os.fstat(self._descriptor).st_size // _SLOT_BYTES
            if self.slots < 1:
                raise OSError(f"ledger file {path} has no slots")
            self.slot = next((slot for slot in range(self.slots) if self._lock(slot, fcntl.LOCK_EX)), None)
            if self.slot is None:
                raise OSError(f"every slot of {path} is taken")
            self._map = mmap.mmap(self._descriptor, self.slots * _SLOT_BYTES)
        except BaseException:
            os.close(self._descriptor)  # closing it drops any lock taken through it
            raise
        self._counts = memoryview(self._map).cast("q")
        self._counts[self.slot] = 0  # a slot taken over from a worker that died starts again

    def publish(self, connections: int) -> None:
        self._counts[self.slot] = connections

    def fewest_elsewhere(self) -> int | None:
        """The fewest connections another live worker holds, or None if there is no other."""
        fewest = None
        for slot in range(self.slots):
            if slot != self.slot and self._held_by_another(slot):
                count = self._counts[slot]
                if fewest is None or count < fewest:
                    fewest = count
        return fewest

    def _lock(self, slot: int, kind: int) -> bool:
        try:
            fcntl.lockf(self._descriptor, kind | fcntl.LOCK_NB, 1, slot)
        except OSError:
            return False
        return True

    def _held_by_another(self, slot: int) -> bool:
        # a shared lock is refused only while another process holds the slot; given, it is handed straight back
        # (this process never holds another slot's byte, so dropping it takes nothing of its own)
        if not self._lock(slot, fcntl.LOCK_SH):
            return True
        fcntl.lockf(self._descriptor, fcntl.LOCK_UN, 1, slot)
        return False


_opened: list[Ledger | None] = []


def this_workers_ledger() -> Ledger | None:
    """This worker's slot in the ledger its server named in the environment, claimed on the first call, which
    also moves the worker to its slot's core; None without a ledger (a single worker, the app run some other
    way) or when it cannot be used, and the worker then takes turns only."""
    if not _opened:
        path = os.environ.get(ENVIRONMENT_VARIABLE)
        ledger = None
        if path:
            try:
                ledger = Ledger(path)
            except OSError:
                ledger = None
        _opened.append(ledger)
        if ledger is not None:
            _keep_to_core(ledger.slot)
    return _opened[0]


def _keep_to_core(slot: int) -> None:
    cores = [int(core) for core in os.environ.get(CORES_VARIABLE, "").split(",") if core.strip()]
    if slot < len(cores):
        try:
            os.sched_setaffinity(0, {cores[slot]})
        except OSError:  # the core went away, or this process may not choose: the scheduler decides
            pass
