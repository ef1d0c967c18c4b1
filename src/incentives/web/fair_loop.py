"""The event loop the server's workers run: asyncio's own, answering requests in the order they arrived and
taking turns with the other workers at accepting.

Why not uvloop: under a steady load of long requests (an evaluation is ~1.2 ms of CPU), uvloop answers most
requests in one pass of its loop but leaves a few connections waiting for several passes, so the slowest 1% of
answers took 2× (two workers) to 7× (one worker) the median in the load test, while asyncio's selector loop
serves connections in turn (BENCHMARKS.md, Web app). Their throughput is within a few per cent here, because
the request's own work dominates.

Why in order of arrival: asyncio runs, in one pass, every callback that was ready when the pass began, then
polls for I/O. A request that arrives while a pass is computing a dozen others is read only in the next pass
and computed in the one after, behind requests that arrived later than it did; its wait varied from one pass
to three, and the slowest 1% of answers took twice the median. ArrivalOrderLoop polls for I/O after each
callback instead, so new requests are read as they come and computed behind the ones already waiting (same
throughput; p99 about halved, BENCHMARKS.md).

Why take turns: the workers share one listening socket, and asyncio accepts up to the backlog (uvicorn: 2,048)
connections each time it is woken, so a burst of new connections (a load generator's start, a page opening
several at once) all goes to whichever worker woke first while the other idles, and every request on those
connections waits behind the busy worker for as long as they stay open. A worker here takes one connection per
wake-up and, when it got one, leaves the socket to the others for a moment, so a burst is dealt out between
the workers. (A busy worker looks at the socket only between requests, so the idle one takes new connections.)
"""

from __future__ import annotations

import asyncio
import heapq
import inspect
import socket
import weakref
from asyncio import base_events

from .worker_ledger import Ledger, this_workers_ledger

# How long a worker leaves the listening socket to the others after a wake-up: long enough for a worker woken by
# the same connection to get a core on a busy machine, short enough not to matter to a visitor (a new
# connection waits in the kernel's queue meanwhile; keep-alive connections are not affected).
TURN_SECONDS = 0.005
# With the server's worker ledger, the worker holding fewest connections takes the next one, so a worker takes
# connections one after another without pausing; one that left a connection to another looks again after
# LEDGER_TURN_SECONDS, in case that one is busy. Each worker writes its count at least every
# PUBLISH_EVERY_SECONDS, so connections that ended (a load generator's previous run) are not counted for long.
LEDGER_TURN_SECONDS = 0.0005
PUBLISH_EVERY_SECONDS = 0.001

# How long a worker holding more connections than another leaves a new one to it: a worker in the middle of a
# long request cannot take it meanwhile.
LEAVE_AT_MOST_SECONDS = 0.025

# asyncio's own limits for when a pass clears out cancelled timers
_MAXIMUM_SELECT_TIMEOUT = getattr(base_events, "MAXIMUM_SELECT_TIMEOUT", 24 * 3600)
_MIN_SCHEDULED_TIMER_HANDLES = getattr(base_events, "_MIN_SCHEDULED_TIMER_HANDLES", 100)
_MIN_CANCELLED_FRACTION = getattr(base_events, "_MIN_CANCELLED_TIMER_HANDLES_FRACTION", 0.5)

_ACCEPTS = getattr(asyncio.SelectorEventLoop, "_accept_connection", None)


def runs_in_arrival_order() -> bool:
    """Whether this Python's selector loop is built the way ArrivalOrderLoop expects (a pass polls the selector,
    `_process_events` hands ready I/O to `_add_callback`, due timers sit in the `_scheduled` heap, and waiting
    callbacks in the `_ready` deque); if not, ArrivalOrderLoop is plain asyncio."""
    loop = asyncio.SelectorEventLoop
    run_once = getattr(loop, "_run_once", None)
    process_events = getattr(loop, "_process_events", None)
    return (run_once is not None and process_events is not None and hasattr(loop, "_add_callback")
            and {"_ready", "_scheduled", "_selector", "_process_events", "_clock_resolution",
                 "_timer_cancelled_count", "_stopping"} <= set(run_once.__code__.co_names)
            and "_add_callback" in process_events.__code__.co_names)


class ArrivalOrderLoop(asyncio.SelectorEventLoop):
    """asyncio's selector loop, polling for I/O after every callback rather than after every pass. A pass
    handles the I/O and timers that became ready, then runs the oldest waiting callback, so the work new I/O
    starts queues up behind what was already waiting. Callbacks still run in the order they were scheduled."""

    if runs_in_arrival_order():
        _arrivals: list | None = None

        def _add_callback(self, handle):
            arrivals = self._arrivals
            if arrivals is None:
                super()._add_callback(handle)
            elif not handle._cancelled:
                arrivals.append(handle)

        def _run_once(self):
            if self._debug:  # asyncio's own pass times each callback
                return super()._run_once()
            ready, scheduled = self._ready, self._scheduled
            _drop_cancelled(self)
            timeout = None
            if ready or self._stopping:
                timeout = 0
            elif scheduled:
                timeout = min(max(0, scheduled[0]._when - self.time()), _MAXIMUM_SELECT_TIMEOUT)
            arrivals = self._arrivals = []
            try:
                self._process_events(self._selector.select(timeout))
            finally:
                self._arrivals = None
            end_time = self.time() + self._clock_resolution
            while scheduled and scheduled[0]._when < end_time:
                handle = heapq.heappop(scheduled)
                handle._scheduled = False
                arrivals.append(handle)
            for handle in arrivals:
                if not handle._cancelled:
                    handle._run()
            if ready:
                handle = ready.popleft()
                if not handle._cancelled:
                    handle._run()


def _drop_cancelled(loop) -> None:
    """Take cancelled timers out of the heap, as asyncio's own pass does: all of them when they are many, else
    those at its head."""
    scheduled = loop._scheduled
    count = len(scheduled)
    if count > _MIN_SCHEDULED_TIMER_HANDLES and loop._timer_cancelled_count / count > _MIN_CANCELLED_FRACTION:
        kept = []
        for handle in scheduled:
            if handle._cancelled:
                handle._scheduled = False
            else:
                kept.append(handle)
        heapq.heapify(kept)
        loop._scheduled = kept
        loop._timer_cancelled_count = 0
        return
    while scheduled and scheduled[0]._cancelled:
        loop._timer_cancelled_count -= 1
        handle = heapq.heappop(scheduled)
        handle._scheduled = False


def takes_turns() -> bool:
    """Whether this Python's selector loop accepts connections the way TurnTakingLoop expects (a method that
    takes `backlog`, the connections to take per wake-up, re-run by the selector while the socket is readable);
    if not, TurnTakingLoop is plain asyncio."""
    loop = asyncio.SelectorEventLoop
    return (_ACCEPTS is not None and all(hasattr(loop, name) for name in (
                "_add_reader", "_remove_reader", "_accept_connection2", "_make_socket_transport"))
            and list(inspect.signature(_ACCEPTS).parameters)[1:6] == [
                "protocol_factory", "sock", "sslcontext", "server", "backlog"])


class TurnTakingLoop(ArrivalOrderLoop):
    """The arrival-order loop that, woken by a listening socket, takes at most one connection. With the server's
    worker ledger, a worker holding more connections than another leaves the connection to it, for up to
    LEAVE_AT_MOST_SECONDS. Without one, a worker that got a connection stops watching the socket for
    TURN_SECONDS; one that found nothing (another took the connection) keeps watching: it is next in line."""

    if takes_turns():
        _accepted = False
        _leaving_since: float | None = None

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            # this worker's connections: those accepted whose transport asyncio has not made yet, and the
            # transports of the others (asyncio's own count drops a connection only once its end has had its
            # turn in the queue, so connections that ended just before a burst would still count)
            self._setting_up: set[socket.socket] = set()
            self._accepted_transports: weakref.WeakSet = weakref.WeakSet()

        def _connections(self) -> int:
            open_ones = sum(not transport.is_closing() for transport in self._accepted_transports)
            return len(self._setting_up) + open_ones

        def _accept_connection(self, protocol_factory, sock, sslcontext=None, server=None, backlog=100,
                               *args, **kwargs):
            fd = sock.fileno()
            resume = (protocol_factory, sock, sslcontext, server, backlog, *args)
            ledger = this_workers_ledger()
            connections = self._connections() if ledger is not None else 0
            if ledger is not None and self._leave_to_another(ledger, connections):
                if fd != -1 and self._remove_reader(fd):
                    self.call_later(LEDGER_TURN_SECONDS, self._resume_accepting, fd, sock, server, resume, kwargs)
                return
            self._accepted = False
            super()._accept_connection(protocol_factory, sock, sslcontext, server, 1, *args, **kwargs)
            if not self._accepted:
                return
            if ledger is not None:
                # the ledger keeps the workers even, so the next connection is looked at straight away
                ledger.publish(connections + 1)
            elif fd != -1 and self._remove_reader(fd):
                self.call_later(TURN_SECONDS, self._resume_accepting, fd, sock, server, resume, kwargs)

        _published_at = 0.0

        def _run_once(self):
            super()._run_once()
            # keep this worker's count in the ledger current as connections end, not only when it accepts
            ledger = this_workers_ledger()
            if ledger is not None:
                now = self.time()
                if now - self._published_at >= PUBLISH_EVERY_SECONDS:
                    self._published_at = now
                    ledger.publish(self._connections())

        def _leave_to_another(self, ledger: Ledger, connections: int) -> bool:
            ledger.publish(connections)
            fewest = ledger.fewest_elsewhere()
            if fewest is None or connections <= fewest:
                self._leaving_since = None
                return False
            now = self.time()
            if self._leaving_since is None:
                self._leaving_since = now
            if now - self._leaving_since < LEAVE_AT_MOST_SECONDS:
                return True
            self._leaving_since = None  # the other worker is busy for long, or stuck: take it after all
            return False

        def _accept_connection2(self, protocol_factory, conn, *args, **kwargs):
            # asyncio calls this (it returns the coroutine that sets the connection up) only for a connection
            # it has just accepted
            self._accepted = True
            no_delay(conn)
            self._setting_up.add(conn)
            return self._counted(conn, super()._accept_connection2(protocol_factory, conn, *args, **kwargs))

        async def _counted(self, conn, setting_up):
            try:
                return await setting_up
            finally:  # set up or failed (then asyncio has closed it)
                self._setting_up.discard(conn)

        def _make_socket_transport(self, sock, *args, **kwargs):
            transport = super()._make_socket_transport(sock, *args, **kwargs)
            if sock in self._setting_up:  # an accepted connection, not one this worker opened itself
                self._setting_up.discard(sock)
                self._accepted_transports.add(transport)
            return transport

        def _resume_accepting(self, fd, sock, server, args, kwargs) -> None:
            # a server closed during the pause has closed its socket (and the fd may belong to another file)
            if sock.fileno() == fd and (server is None or server.is_serving()):
                self._add_reader(fd, self._accept_connection, *args, **kwargs)


def no_delay(conn: socket.socket) -> None:
    """Send each response as soon as it is written (TCP_NODELAY). asyncio sets it only on sockets it knows to be
    TCP, and the workers' copy of the supervisor's listening socket does not say so: with Nagle's algorithm on,
    the last part of a response waited for the client's delayed acknowledgement, 40 ms and more."""
    if conn.family in (socket.AF_INET, socket.AF_INET6):
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


# uvicorn's `loop` setting is an import string of the loop factory; one worker has no one to take turns with
SEVERAL_WORKERS_LOOP = f"{__name__}:TurnTakingLoop"
ONE_WORKER_LOOP = f"{__name__}:ArrivalOrderLoop"
