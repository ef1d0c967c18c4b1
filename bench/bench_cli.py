"""Wall time of `incentives evaluate` on a bundled example, Python start-up included (target: median ≤ 300 ms).

    .venv/bin/python bench/bench_cli.py                    # 30 timed runs after 3 warm-up runs
    .venv/bin/python bench/bench_cli.py --runs 50 --breakdown

Each run is a fresh process, as a user's shell would start it; the CPU time (user + sys) of each run is reported
too, since it varies less than wall time on a shared machine. The package's bytecode is compiled first, as
installing the wheel does: with PYTHONDONTWRITEBYTECODE set (or a read-only tree) every run would otherwise
compile the package from source, ~10% of a run (`--no-compile` measures that case). `--breakdown` also shows
where one run spends its time: the slowest imports (`python -X importtime`) and the phases measured in-process
(import, loading the scheme catalogue, parsing the profile, evaluating, writing JSON).
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CLI = Path(sys.executable).with_name("incentives")

_PHASES = r"""
import time, datetime
t0 = time.perf_counter()
from incentives.plugin_scan import without_plugins
without_plugins()  # as cli.main does first
from incentives import cli
from incentives.schemes import cached_catalogue, default_cache_dir, load_catalogue
from incentives.resources import schemes_dir
t1 = time.perf_counter()
load_catalogue(schemes_dir())
t1b = time.perf_counter()
cat = cached_catalogue(schemes_dir(), default_cache_dir())
t2 = time.perf_counter()
from incentives.profile import profile_from_json
from incentives.evaluate import evaluate
from incentives.report import evaluation_json
t3 = time.perf_counter()
profile = profile_from_json(open(EXAMPLE, "rb").read())
t4 = time.perf_counter()
evaluation = evaluate(profile, datetime.date.fromisoformat(AS_OF), cat)
t5 = time.perf_counter()
text = evaluation_json(evaluation)
t6 = time.perf_counter()
for name, a, b in (("import cli + schemes", t0, t1), ("load + validate catalogue", t1, t1b),
                   ("catalogue from the cache", t1b, t2),
                   ("import profile/evaluate/report", t2, t3), ("parse profile", t3, t4),
                   ("evaluate", t4, t5), ("write JSON", t5, t6)):
    print(f"  {name:<32} {1000 * (b - a):7.1f} ms")
"""


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def compile_package() -> None:
    """Write the package's bytecode where Python looks for it (skipping files already compiled)."""
    spec = importlib.util.find_spec("incentives")
    for location in (spec.submodule_search_locations or []) if spec else []:
        compileall.compile_dir(location, quiet=1)


def _children_cpu_ms() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (usage.ru_utime + usage.ru_stime) * 1000


def run_once(command: list[str]) -> tuple[float, float]:
    """Wall and CPU (user + sys) milliseconds of one run of command, its output read through a pipe."""
    cpu_before = _children_cpu_ms()
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return (time.perf_counter() - start) * 1000, _children_cpu_ms() - cpu_before


def time_runs(command: list[str], runs: int, warmup: int) -> tuple[list[float], list[float]]:
    for _ in range(warmup):
        run_once(command)
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = run_once(command)
        walls.append(wall)
        cpus.append(cpu)
    return walls, cpus


def breakdown(example: Path, as_of: str) -> None:
    result = subprocess.run([sys.executable, "-X", "importtime", str(CLI), "evaluate", str(example), "--as-of", as_of],
                            capture_output=True, text=True, check=True)
    rows = []
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            self_us, cumulative_us, name = (part.strip() for part in line[len("import time:"):].split("|"))
            if self_us.isdigit():
                rows.append((int(cumulative_us), int(self_us), name))
    print("slowest imports (cumulative ms, self ms, module):")
    for cumulative, self_time, name in sorted(rows, reverse=True)[:15]:
        print(f"  {cumulative / 1000:7.1f} {self_time / 1000:7.1f}  {name}")
    print("phases of one run, in-process:")
    code = f"EXAMPLE = {str(example)!r}\nAS_OF = {as_of!r}\n" + _PHASES
    print(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout, end="")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--example", default="songjiang-satellite.json")
    parser.add_argument("--as-of", default="2026-06-01")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--target-ms", type=float, default=300.0)
    parser.add_argument("--breakdown", action="store_true", help="also show slow imports and in-process phases")
    parser.add_argument("--no-compile", action="store_true", help="do not compile the package's bytecode first")
    args = parser.parse_args()
    example = REPO / "examples" / args.example
    command = [str(CLI), "evaluate", str(example), "--as-of", args.as_of, "--format", "json"]
    if not args.no_compile:
        compile_package()
    load = os.getloadavg()
    times, cpus = time_runs(command, args.runs, args.warmup)
    median, p95 = statistics.median(times), percentile(times, 0.95)
    print(f"command: {' '.join(command)}")
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}  bytecode: "
          f"{'as found' if args.no_compile else 'compiled'}")
    print(f"runs: {len(times)}  median: {median:.0f} ms  p95: {p95:.0f} ms  min: {min(times):.0f} ms  "
          f"max: {max(times):.0f} ms  target: median ≤ {args.target_ms:.0f} ms -> "
          f"{'met' if median <= args.target_ms else 'NOT met'}")
    print(f"cpu (user+sys): median {statistics.median(cpus):.0f} ms  min {min(cpus):.0f} ms")
    if args.breakdown:
        breakdown(example, args.as_of)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
