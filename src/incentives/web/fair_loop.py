"""The event loop the server's workers run: asyncio's own, taking turns with the other workers at accepting.

Why not uvloop: under a steady load of long requests (an evaluation is ~1.3 ms of CPU), uvloop answers most
requests in one pass of its loop but leaves a few connections waiting for several passes, so the slowest 1% of
answers took 2× (two workers) to 7× (one worker) the median in the load test, while asyncio's selector loop
serves connections in turn (BENCHMARKS.md, Web app). Their throughput is within a few per cent here, because
the request's own work dominates.

Why take turns: the workers share one listening socket, and asyncio accepts up to the backlog (uvicorn: 2,048)
connections each time it is woken, so a burst of new connections (a load generator's start, a page opening
several at once) all goes to whichever worker woke first while the other idles, and every request on those
connections waits behind the busy worker for as long as they stay open. A worker here takes one connection per
wake-up and, when it got one, leaves the socket to the others for a moment, so a burst is dealt out between
the workers. (A busy worker looks at the socket only between requests, so the idle one takes new connections.)
"""

from __future__ import annotations

import asyncio
import inspect
import socket

# How long a worker leaves the listening socket to the others after a wake-up: long enough for a worker woken by
# the same connection to get a core on a busy machine, short enough not to matter to a visitor (a new
# connection waits in the kernel's queue meanwhile; keep-alive connections are not affected).
TURN_SECONDS = 0.005

_ACCEPTS = getattr(asyncio.SelectorEventLoop, "_accept_connection", None)


def takes_turns() -> bool:
    """Whether this Python's selector loop accepts connections the way TurnTakingLoop expects (a method that
    takes `backlog`, the connections to take per wake-up, re-run by the selector while the socket is readable);
    if not, TurnTakingLoop is plain asyncio."""
    loop = asyncio.SelectorEventLoop
    return (_ACCEPTS is not None and all(hasattr(loop, name) for name in (
                "_add_reader", "_remove_reader", "_accept_connection2"))
            and list(inspect.signature(_ACCEPTS).parameters)[1:6] == [
                "protocol_factory", "sock", "sslcontext", "server", "backlog"])


class TurnTakingLoop(asyncio.SelectorEventLoop):
    """asyncio's selector loop that, woken by a listening socket, takes at most one connection and, when it got
    one, stops watching that socket for TURN_SECONDS. A worker that found nothing (another took the
    connection) keeps watching: it is next in line."""

    if takes_turns():
        _accepted = False

        def _accept_connection(self, protocol_factory, sock, sslcontext=None, server=None, backlog=100,
                               *args, **kwargs):
            self._accepted = False
            super()._accept_connection(protocol_factory, sock, sslcontext, server, 1, *args, **kwargs)
            fd = sock.fileno()
            if not self._accepted or fd == -1 or not self._remove_reader(fd):
                return
            self.call_later(TURN_SECONDS, self._resume_accepting, fd, sock, server,
                            (protocol_factory, sock, sslcontext, server, backlog, *args), kwargs)

        def _accept_connection2(self, protocol_factory, conn, *args, **kwargs):
            # asyncio calls this (it returns the coroutine that sets the connection up) only for a connection
            # it has just accepted
            self._accepted = True
            no_delay(conn)
            return super()._accept_connection2(protocol_factory, conn, *args, **kwargs)

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
ONE_WORKER_LOOP = "asyncio"
