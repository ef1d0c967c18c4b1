"""Load test of `incentives serve` with wrk on loopback (targets: API ≥ 1,000 req/s with p99 ≤ 25 ms at 32
connections; HTML results fragment ≥ 300 req/s; cold start to the first answered request ≤ 2 s).

    .venv/bin/python bench/web_bench.py                       # 15 s per endpoint, 32 connections
    .venv/bin/python bench/web_bench.py --duration 30 --workers 1   # INCENTIVES_WEB_WORKERS=1 (default: serve's)
    .venv/bin/python bench/web_bench.py --profile             # CPU time of each part of one request
    git archive HEAD | tar -x -C /tmp/before && \
    .venv/bin/python bench/web_bench.py --against /tmp/before/src  # the same run for another tree, alternating

The typical profile is the Songjiang example (3 projects) with a second loan added: 3 projects, 2 loans. The
fragment is what htmx asks for: the form posted with HX-Request, answered with the results block only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parents[1]
CLI = Path(sys.executable).with_name("incentives")
AS_OF = "2026-06-01"


def typical_profile() -> dict:
    profile = json.loads((REPO / "examples" / "songjiang-satellite.json").read_text(encoding="utf-8"))
    second = dict(profile["loans"][0], id="bocom-2026-04", principal_yuan="20000000", annual_rate="0.031",
                  issue_date="2026-04-15", maturity_date="2028-04-14", lender="交通银行上海分行")
    profile["loans"].append(second)
    assert len(profile["projects"]) == 3 and len(profile["loans"]) == 2
    return profile


def form_body(profile: dict) -> str:
    from incentives.web.forms import state_from_document

    state = state_from_document(profile, AS_OF)
    pairs: list[tuple[str, str]] = [("as_of", AS_OF), ("carry", state.carry), ("action", "evaluate")]
    for name, value in state.values.items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append((name, item))
    return urlencode(pairs)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int, workers: int | None, source: str | None = None) -> tuple[subprocess.Popen, float]:
    """Start `incentives serve` (from `source`, a src/ directory, when given); returns the process and the
    seconds until the first answered request."""
    command = [str(CLI), "serve", "--port", str(port)]
    environment = {key: value for key, value in os.environ.items() if key != "INCENTIVES_WEB_WORKERS"}
    if workers is not None:  # else what `incentives serve` picks by itself
        environment["INCENTIVES_WEB_WORKERS"] = str(workers)
    if source:
        environment["PYTHONPATH"] = source
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=environment)
    url = f"http://127.0.0.1:{port}/api/v1/schemes"
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return process, time.perf_counter() - started
        except OSError:
            if process.poll() is not None:
                raise SystemExit("incentives serve exited")
            time.sleep(0.005)


PERCENTILES = (50, 90, 99, 99.9)

# wrk's own summary rounds its percentiles to p50/75/90/99; done() prints the ones this benchmark reports
_PRINT_PERCENTILES = """
done = function(summary, latency, requests)
  for _, p in ipairs({%s}) do
    io.write(string.format("percentile %%s %%.2f\\n", p, latency:percentile(p) / 1000))
  end
end
""" % ", ".join(map(str, PERCENTILES))


def lua_script(body: str, content_type: str, extra_headers: dict[str, str]) -> str:
    headers = "".join(f'wrk.headers["{k}"] = "{v}"\n' for k, v in extra_headers.items())
    return (f'wrk.method = "POST"\nwrk.headers["Content-Type"] = "{content_type}"\n{headers}'
            f"wrk.body = [==[{body}]==]\n{_PRINT_PERCENTILES}")


def run_wrk(url: str, script: str, connections: int, duration: int, threads: int) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False, encoding="utf-8") as handle:
        handle.write(script)
    output = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "-s",
                             handle.name, url], capture_output=True, text=True, check=True).stdout
    Path(handle.name).unlink()
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    total = int(re.search(r"(\d+) requests in", output).group(1))
    percentiles = {float(p): float(ms) for p, ms in re.findall(r"^percentile ([\d.]+) ([\d.]+)$", output, re.M)}
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    return {"req_per_s": rate, "p99_ms": percentiles[99.0], "percentiles": percentiles, "requests": total,
            "non_2xx": int(non_2xx.group(1)) if non_2xx else 0}


def server_cpu_seconds(pid: int) -> float:
    """User + system CPU of the server process and its worker processes so far (Linux /proc). Unlike
    throughput, CPU per request hardly depends on what else the machine is running."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if entry.name == str(pid) or fields[1] == str(pid):  # fields[1] is the parent's pid
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def profile_one_request() -> None:
    """CPU time of one request's parts, in process (CPU time, best of 5 batches of 40, so other load on the
    machine matters less)."""
    from datetime import date

    from fastapi.testclient import TestClient

    from incentives.evaluate import evaluate
    from incentives.profile import loads_exact, parse_profile
    from incentives.report import evaluation_dict, evaluation_json, reference_evaluation_json
    from incentives.result_json import evaluation_bytes
    from incentives.web.app import create_app
    from incentives.web.json_types import type_problems

    import orjson

    profile_document = typical_profile()
    body = json.dumps({"as_of": AS_OF, "profile": profile_document}, ensure_ascii=False)
    as_of = date.fromisoformat(AS_OF)
    profile = parse_profile(profile_document)
    evaluation = evaluate(profile, as_of)
    document = evaluation_dict(evaluation)
    client = TestClient(create_app())
    form = form_body(profile_document)
    hx = {"HX-Request": "true", "Content-Type": "application/x-www-form-urlencoded"}
    app = create_app()
    api_call = _asgi_call(app, "/api/v1/evaluate", body.encode(), {"content-type": "application/json"})
    fragment_call = _asgi_call(app, "/", form.encode(), {"content-type": "application/x-www-form-urlencoded",
                                                          "hx-request": "true"})
    parts = {
        "decode JSON (exact decimals)": lambda: loads_exact(body),
        "check JSON types": lambda: type_problems(profile_document, "Profile", "$.profile"),
        "parse profile": lambda: parse_profile(profile_document),
        "evaluate (engine)": lambda: evaluate(profile, as_of),
        "evaluation_dict": lambda: evaluation_dict(evaluation),
        "orjson of evaluation_dict": lambda: orjson.dumps(document, option=orjson.OPT_INDENT_2),
        "result document bytes (API)": lambda: evaluation_bytes(evaluation),
        "CLI text (evaluation_json)": lambda: evaluation_json(evaluation),
        "json.dumps, indent 2 (reference)": lambda: reference_evaluation_json(evaluation),
        "API request end to end": lambda: client.post("/api/v1/evaluate", content=body),
        "HTML fragment end to end": lambda: client.post("/", content=form, headers=hx),
        # the app alone, called as the server calls it: TestClient adds a thread hand-off of its own per request
        "API request, app only (ASGI)": api_call,
        "HTML fragment, app only (ASGI)": fragment_call,
    }
    # the best of several batches: other work on the machine only ever adds time (caches, preemption)
    batches, runs = 5, 40
    for name, call in parts.items():
        call()
        best = float("inf")
        for _ in range(batches):
            start = time.process_time()
            for _ in range(runs):
                call()
            best = min(best, (time.process_time() - start) / runs)
        print(f"{name:<30} {best * 1000:7.2f} ms CPU")


def _asgi_call(app, path: str, body: bytes, headers: dict[str, str]):
    """One POST straight into the ASGI app on a private event loop; returns a function that runs it."""
    import asyncio

    raw_headers = [(k.encode(), v.encode()) for k, v in headers.items()]
    raw_headers += [(b"content-length", str(len(body)).encode()), (b"host", b"127.0.0.1")]
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "headers": raw_headers,
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 8000)}
    loop = asyncio.new_event_loop()

    async def one() -> None:
        messages = [{"type": "http.request", "body": body, "more_body": False}]
        statuses = []

        async def receive():
            if messages:
                return messages.pop()
            return {"type": "http.disconnect"}

        async def send(message):
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        await app(dict(scope), receive, send)
        assert statuses == [200], statuses

    return lambda: loop.run_until_complete(one())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=None, help="default: what `incentives serve` picks")
    parser.add_argument("--profile", action="store_true", help="in-process time breakdown instead of wrk")
    parser.add_argument("--against", metavar="SRC", help="also serve from this src/ directory, alternating")
    parser.add_argument("--rounds", type=int, default=2, help="alternations with --against")
    args = parser.parse_args()
    if args.profile:
        profile_one_request()
        return
    profile = typical_profile()
    api_body = json.dumps({"as_of": AS_OF, "profile": profile}, ensure_ascii=False)
    sources = [None] if not args.against else [args.against, None] * args.rounds
    for source in sources:
        measure(source, api_body, profile, args)


def _workers_label(workers: int | None) -> str:
    if workers is None:
        from incentives.web.serving import default_workers

        workers = default_workers()
        return f"{workers} worker{'s' if workers > 1 else ''} (serve's default)"
    return f"{workers} worker{'s' if workers > 1 else ''}"


def measure(source: str | None, api_body: str, profile: dict, args: argparse.Namespace) -> None:
    port = free_port()
    process, cold_start = start_server(port, args.workers, source)
    label = f"[{source or 'this tree'}, load {os.getloadavg()[0]:.1f}] "
    try:
        base = f"http://127.0.0.1:{port}"
        print(f"{label}cold start of `incentives serve` to first answered request: {cold_start * 1000:.0f} ms")
        for name, path, script in [
            ("POST /api/v1/evaluate", "/api/v1/evaluate", lua_script(api_body, "application/json", {})),
            ("POST / (HTML results fragment, HX-Request)", "/",
             lua_script(form_body(profile), "application/x-www-form-urlencoded", {"HX-Request": "true"})),
        ]:
            run_wrk(base + path, script, args.connections, 2, args.threads)  # warm-up
            cpu_before = server_cpu_seconds(process.pid)
            result = run_wrk(base + path, script, args.connections, args.duration, args.threads)
            cpu = (server_cpu_seconds(process.pid) - cpu_before) / max(result["requests"], 1)
            latency = ", ".join(f"p{p:g} {ms:.1f}" for p, ms in result["percentiles"].items())
            print(f"{label}{name}: {result['req_per_s']:.0f} req/s, p99 {result['p99_ms']:.1f} ms ({latency} ms), "
                  f"server CPU {cpu * 1000:.2f} ms/request, non-2xx {result['non_2xx']}  "
                  f"(wrk -t{args.threads} -c{args.connections} -d{args.duration}s, "
                  f"{_workers_label(args.workers)})", flush=True)
    finally:
        process.terminate()
        process.wait(timeout=10)


if __name__ == "__main__":
    main()
