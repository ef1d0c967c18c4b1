"""Running the app under uvicorn: how many worker processes, and how they start.

Kept apart from the app module so that the process which only supervises the workers never imports the app
(FastAPI, the catalogue, the templates): with several workers it would be start-up time and memory for nothing.
"""

from __future__ import annotations

import os

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
# Two at most by default: each worker holds its own catalogue, compiled plans and templates (memory per
# process), the box this is sized for has 2 cores, and two already meet the throughput targets (BENCHMARKS.md).
DEFAULT_MAX_WORKERS = 2


def default_workers() -> int:
    """INCENTIVES_WEB_WORKERS if set, else one worker per CPU, capped at DEFAULT_MAX_WORKERS."""
    configured = os.environ.get("INCENTIVES_WEB_WORKERS")
    if configured:
        return max(1, int(configured))
    return max(1, min(DEFAULT_MAX_WORKERS, os.cpu_count() or 1))


def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, workers: int | None = None) -> None:
    """Run the app with uvicorn: `workers` processes (default: default_workers()) sharing one listening socket.

    Every piece of state a request can depend on lives in the store or on disk (batch jobs), so any worker can
    answer any request. The HTTP parser is httptools (from uvicorn[standard]); the event loop is asyncio's own,
    answering requests in the order they arrived, the workers taking turns at accepting connections
    and leaving new ones to the worker holding fewest (fair_loop.py says why). No access log: a line per
    request would cost more than some requests do."""
    import uvicorn

    from . import worker_ledger
    from .fair_loop import ONE_WORKER_LOOP, SEVERAL_WORKERS_LOOP

    workers = workers or default_workers()
    if workers > 1:
        # each worker builds the app itself (the factory); this process only supervises them, and the ledger
        # tells the workers how many connections each holds and which core each keeps to
        with worker_ledger.create(workers):
            uvicorn.run("incentives.web.app:create_served_app", factory=True, host=host, port=port,
                        workers=workers, log_level="warning", access_log=False, loop=SEVERAL_WORKERS_LOOP)
        return
    from .app import create_served_app

    uvicorn.run(create_served_app(), host=host, port=port, log_level="info", access_log=False,
                loop=ONE_WORKER_LOOP)
