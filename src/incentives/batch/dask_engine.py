"""The batch kernel on a Dask cluster: a bag of Parquet shard numbers, each worker reading its own shard.

The client splits the input into shards by a hash of the enterprise id (the same buckets as a local run), and
the workers read, check, evaluate and write one shard each with polars. Only shard numbers, a few hundred bytes
of column metadata and the per-shard counts travel through the scheduler; the shards and their results live in a
folder every worker can read and write. On one machine that is the run's work folder; on a real cluster set
INCENTIVES_BATCH_SHARED_DIR to a shared file system path mounted on the client and on every worker.
"""

from __future__ import annotations

import importlib
import math
import os
import uuid
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from .chunks import BUCKET_CHUNK_SIZE
from .readers import RawInput, RawTable
from .validate import Counts, validate
from .totals import SCHEME_TOTALS_SCHEMA
from .writers import DETAIL_SCHEMA, ERROR_SCHEMA, SUMMARY_SCHEMA, Part

SHARED_DIR_ENV = "INCENTIVES_BATCH_SHARED_DIR"
LOCAL_WORKERS = 2


class ClusterMismatch(Exception):
    """The workers would not compute what the client would (another rules version)."""

    def __init__(self, zh: str, en: str):
        super().__init__(en)
        self.zh = zh
        self.en = en


@dataclass(frozen=True, slots=True)
class TableMeta:
    """What a worker needs to rebuild a raw table from its shard (everything but the rows)."""

    table: str
    sheet: str
    headers: dict[str, str]
    fen_columns: tuple[str, ...]
    schema: dict[str, pl.DataType]  # for a shard with no rows of this table


def _meta(raw: RawInput) -> list[TableMeta]:
    out = []
    for table in raw.tables.values():
        schema = table.frame.collect_schema() if isinstance(table.frame, pl.LazyFrame) else table.frame.schema
        out.append(TableMeta(table.table, table.sheet, dict(table.headers), tuple(sorted(table.fen_columns)),
                             dict(schema)))
    return out


def _shard_input(root: Path, shard: int, metas: list[TableMeta], fmt: str) -> RawInput:
    from .runner import BUCKET

    tables = {}
    for meta in metas:
        files = sorted((root / "in" / meta.table / f"{BUCKET}={shard}").glob("*.parquet"))
        frame = pl.read_parquet(files) if files else pl.DataFrame(
            schema=meta.schema)
        tables[meta.table] = RawTable(meta.table, meta.sheet, frame, meta.headers, frozenset(meta.fen_columns))
    return RawInput(fmt, tables)


def _resolve(reference: str | None):
    if reference is None:
        from .runner import default_evaluator

        return default_evaluator()
    module, _, name = reference.partition(":")
    return getattr(importlib.import_module(module), name)


def process_shard(shard: int, root: str, as_of: date, metas: list[TableMeta], fmt: str,
                  evaluator_ref: str | None = None) -> dict[str, Any]:
    """The kernel a worker runs: read its shard, check, evaluate, write the results next to it; return counts."""
    from ..schemes import catalogue
    from .runner import evaluate_part

    base = Path(root)
    checked = validate(_shard_input(base, shard, metas, fmt), as_of=as_of)
    part = evaluate_part(checked, as_of, _resolve(evaluator_ref), catalogue())
    out = base / "out" / str(shard)
    out.mkdir(parents=True, exist_ok=True)
    part.summary.write_parquet(out / "summary.parquet")  # titles are added again on the client
    part.details.write_parquet(out / "details.parquet")
    part.errors.write_parquet(out / "errors.parquet")
    part.scheme_totals.write_parquet(out / "scheme_totals.parquet")
    return {"counts": asdict(checked.counts), "rules_version": catalogue().rules_version}


def _read_part(root: Path, shard: int, titles: dict[str, str]) -> Part:
    folder = root / "out" / str(shard)
    return Part(pl.read_parquet(folder / "summary.parquet").cast(SUMMARY_SCHEMA),
                pl.read_parquet(folder / "details.parquet").cast(DETAIL_SCHEMA),
                pl.read_parquet(folder / "errors.parquet").cast(ERROR_SCHEMA), titles,
                totals_of=pl.read_parquet(folder / "scheme_totals.parquet").cast(SCHEME_TOTALS_SCHEMA))


def _titles() -> dict[str, str]:
    from ..schemes import catalogue

    return {scheme.id: scheme.title_zh for scheme in catalogue().schemes}


def _rules_version() -> str:
    from ..schemes import catalogue

    return catalogue().rules_version


def _client(job: Any):
    from distributed import Client, LocalCluster

    if job.engine == "dask":
        return Client(job.scheduler), None
    cluster = LocalCluster(n_workers=LOCAL_WORKERS, threads_per_worker=1, processes=True, dashboard_address=None)
    return Client(cluster), cluster


def run_on_dask(raw: RawInput, workdir: Path, job: Any, sink: Any, counts: Counts, progress: Any, total: int,
                evaluator_ref: str | None = None) -> None:
    """Partition on the client, evaluate shards on the workers, then write the shards' results in shard order."""
    import shutil

    import dask.bag as db
    from distributed import as_completed

    from .runner import _readable, partition

    shared = os.environ.get(SHARED_DIR_ENV)
    root = Path(shared) / f"incentives-batch-{uuid.uuid4().hex}" if shared else workdir / "shards"
    shards = max(LOCAL_WORKERS, math.ceil(total / (job.chunk_size or BUCKET_CHUNK_SIZE)))
    progress(0, total, "partition")
    _readable(lambda: partition(raw, root / "in", shards))
    metas = _meta(raw)
    evaluator_ref = evaluator_ref or getattr(job, "evaluator_ref", None)
    client, cluster = _client(job)
    try:
        bag = db.from_sequence(range(shards), npartitions=shards).map(
            process_shard, str(root), job.as_of, metas, raw.format, evaluator_ref)
        futures = client.compute(bag.to_delayed())
        done = 0
        expected = _rules_version()
        for future in as_completed(futures):
            for shard in future.result():
                if shard["rules_version"] != expected:
                    # a worker with other scheme data would give other answers: refuse to mix them
                    raise ClusterMismatch(
                        f"Dask 工作节点的规则版本 {shard['rules_version']} 与本机 {expected} 不同，请在每个节点安装相同版本",
                        f"a worker has rules version {shard['rules_version']}, the client {expected}; install the "
                        "same incentives version on every worker")
                done += shard["counts"]["enterprises_in"]
            progress(done, total, "evaluate")
        titles = _titles()
        for shard in range(shards):
            part = _read_part(root, shard, titles)
            sink.write(part)
        for future in futures:
            for shard in future.result():
                counts.add(Counts(**shard["counts"]))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
        if shared:
            shutil.rmtree(root, ignore_errors=True)
