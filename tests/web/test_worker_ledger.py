"""The worker ledger: each worker process claims a slot, publishes how many connections it holds and reads the
others'; a slot counts only while its worker lives."""

from __future__ import annotations

import multiprocessing
import os

import pytest

from incentives.web import worker_ledger
from incentives.web.worker_ledger import Ledger, cores_for

_SPAWN = multiprocessing.get_context("spawn")


def _worker(path: str, connections: int, to_parent, from_parent) -> None:
    ledger = Ledger(path)
    ledger.publish(connections)
    to_parent.send(ledger.slot)
    while (message := from_parent.recv()) != "stop":
        if message == "fewest":
            to_parent.send(ledger.fewest_elsewhere())
        else:
            ledger.publish(message)
            to_parent.send("published")


class _Worker:
    """A process holding a slot of the ledger, publishing what it is told to."""

    def __init__(self, path: str, connections: int):
        self._to_child, child_end = _SPAWN.Pipe()
        self._process = _SPAWN.Process(target=_worker, args=(path, connections, child_end, child_end))
        self._process.start()
        self.slot = self._ask(None)

    def _ask(self, message):
        if message is not None:
            self._to_child.send(message)
        assert self._to_child.poll(30), "the worker process did not answer"
        return self._to_child.recv()

    def fewest(self):
        return self._ask("fewest")

    def publish(self, connections: int) -> None:
        assert self._ask(connections) == "published"

    def stop(self) -> None:
        self._to_child.send("stop")
        self._process.join(30)
        assert self._process.exitcode == 0


def test_create_names_a_fresh_file_in_the_environment_and_removes_it_afterwards(monkeypatch):
    monkeypatch.delenv(worker_ledger.ENVIRONMENT_VARIABLE, raising=False)
    with worker_ledger.create(2) as path:
        assert os.environ[worker_ledger.ENVIRONMENT_VARIABLE] == path
        assert os.path.getsize(path) == 2 * 8  # a count per worker
    assert not os.path.exists(path)
    assert worker_ledger.ENVIRONMENT_VARIABLE not in os.environ
    assert worker_ledger.CORES_VARIABLE not in os.environ


def test_workers_take_distinct_slots_and_see_each_others_connections():
    with worker_ledger.create(3) as path:
        assert os.path.getsize(path) == 3 * 8
        first = _Worker(path, 5)
        second = _Worker(path, 3)
        try:
            assert {first.slot, second.slot} == {0, 1}
            assert first.fewest() == 3
            assert second.fewest() == 5
            third = _Worker(path, 9)
            assert third.slot == 2
            assert first.fewest() == 3
            assert second.fewest() == 5
            second.publish(12)
            assert first.fewest() == 9
            third.stop()
            assert first.fewest() == 12
        finally:
            first.stop()
            second.stop()


def test_a_dead_workers_slot_is_not_counted_and_its_replacement_starts_from_zero():
    with worker_ledger.create(2) as path:
        first = _Worker(path, 1)
        second = _Worker(path, 7)
        try:
            assert first.fewest() == 7
            second.stop()  # it exits; the lock on its slot goes with it, its count stays in the file
            assert first.fewest() is None
            again = _Worker(path, 0)
            assert again.slot == second.slot
            assert first.fewest() == 0
            again.stop()
        finally:
            first.stop()


def test_an_unusable_ledger_file_is_refused(tmp_path):
    # (the worker then takes turns only: this_workers_ledger() gives None)
    with pytest.raises(OSError):
        Ledger(str(tmp_path / "missing.ledger"))
    empty = tmp_path / "empty.ledger"
    empty.write_bytes(b"")
    with pytest.raises(OSError, match="no slots"):
        Ledger(str(empty))


def test_workers_are_pinned_only_when_each_can_have_a_core(monkeypatch):
    monkeypatch.delenv("INCENTIVES_WEB_PIN", raising=False)
    cores = sorted(os.sched_getaffinity(0))
    assert cores_for(1) == []  # a single worker: the scheduler places it
    assert cores_for(len(cores) + 1) == []
    if len(cores) >= 2:
        assert cores_for(2) == cores[:2]
    monkeypatch.setenv("INCENTIVES_WEB_PIN", "0")
    assert cores_for(2) == []
