"""The workers' event loop: connections it accepts send without delay, whatever the listening socket says."""

from __future__ import annotations

import asyncio
import socket
from concurrent.futures import ThreadPoolExecutor

from incentives.web.fair_loop import ArrivalOrderLoop, TurnTakingLoop, runs_in_arrival_order, takes_turns


def _accepted_socket_options(listening: socket.socket) -> int:
    loop = TurnTakingLoop()
    seen: list[int] = []

    class Probe(asyncio.Protocol):
        def connection_made(self, transport):
            seen.append(transport.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    async def main() -> None:
        server = await loop.create_server(Probe, sock=listening)
        reader, writer = await asyncio.open_connection(*listening.getsockname())
        await reader.read()  # the server closes the connection once it has looked at it
        writer.close()
        server.close()
        await server.wait_closed()

    try:
        loop.run_until_complete(main())
    finally:
        loop.close()
    return seen[0]


def test_a_connection_accepted_from_a_shared_listening_socket_has_no_delay():
    # uvicorn's workers get the supervisor's listening socket through its file descriptor; such a socket does
    # not tell asyncio it is TCP, so asyncio's own TCP_NODELAY is skipped and Nagle's algorithm held the end of
    # each response back until the client's delayed acknowledgement (40 ms and more)
    original = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    original.bind(("127.0.0.1", 0))
    original.listen()
    # rebuilt from the descriptor as multiprocessing does, with the protocol number the supervisor created it
    # with (0, "the default"), which is what asyncio looks at
    shared = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 0, fileno=original.detach())
    shared.setblocking(False)
    assert takes_turns()
    # on a thread of its own: the browser tests' client keeps an event loop running on the main thread
    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(_accepted_socket_options, shared).result(timeout=30) == 1


def _order_of_callbacks(loop: asyncio.AbstractEventLoop) -> list[str]:
    """Three callbacks are ready at once; the first makes a socket readable. Returns the order things ran in."""
    order: list[str] = []
    reader, writer = socket.socketpair()
    reader.setblocking(False)

    def on_readable() -> None:
        order.append("read")
        reader.recv(16)
        loop.remove_reader(reader.fileno())

    def first() -> None:
        order.append("A")
        writer.send(b"x")

    loop.add_reader(reader.fileno(), on_readable)
    try:
        loop.call_soon(first)
        loop.call_soon(order.append, "B")
        loop.call_soon(order.append, "C")
        loop.call_soon(lambda: loop.call_soon(loop.stop))
        loop.run_forever()
    finally:
        reader.close()
        writer.close()
        loop.close()
    return order


def test_io_that_becomes_ready_is_handled_before_later_callbacks_run():
    # asyncio runs every callback that was ready at the start of a pass before polling again; the arrival-order
    # loop polls after each one, so a request that arrives meanwhile is read at once, and the work it starts
    # queues up behind B and C, which were already waiting
    assert runs_in_arrival_order()
    with ThreadPoolExecutor(1) as pool:  # on a thread of its own, as above
        assert pool.submit(_order_of_callbacks, asyncio.SelectorEventLoop()).result() == ["A", "B", "C", "read"]
        assert pool.submit(_order_of_callbacks, ArrivalOrderLoop()).result() == ["A", "read", "B", "C"]
        assert pool.submit(_order_of_callbacks, TurnTakingLoop()).result() == ["A", "read", "B", "C"]


def test_callbacks_from_other_threads_run_all_and_in_order():
    # other threads append to the deque of waiting callbacks while the loop runs one at a time
    with ThreadPoolExecutor(1) as pool:  # on a thread of its own, as above
        ran, total = pool.submit(_callbacks_from_a_thread).result(timeout=60)
    assert ran == list(range(total))


def _callbacks_from_a_thread() -> tuple[list[int], int]:
    loop = ArrivalOrderLoop()
    ran: list[int] = []
    total = 20_000

    def busy(n: int) -> None:
        if n:
            loop.call_soon(busy, n - 1)

    def from_thread() -> None:
        for i in range(total):
            loop.call_soon_threadsafe(ran.append, i)
        loop.call_soon_threadsafe(lambda: loop.call_soon(loop.stop))

    try:
        for _ in range(4):  # callbacks always waiting, which the thread's callbacks queue up behind
            loop.call_soon(busy, 50_000)
        with ThreadPoolExecutor(1) as pool:
            loop.call_soon(pool.submit, from_thread)
            loop.run_forever()
    finally:
        loop.close()
    return ran, total
