"""The workers' event loop: connections it accepts send without delay, whatever the listening socket says."""

from __future__ import annotations

import asyncio
import socket
from concurrent.futures import ThreadPoolExecutor

from incentives.web.fair_loop import TurnTakingLoop, takes_turns


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
