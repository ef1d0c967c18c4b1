"""The Dask engine on a 2-worker LocalCluster gives the same results as the local run."""

from __future__ import annotations

import polars as pl
import pytest

from incentives.batch import runner
from incentives.batch.runner import Job, run_batch

from .conftest import AS_OF, scalar_evaluator

pytest.importorskip("distributed")


@pytest.mark.slow
@pytest.mark.xdist_group("dask")
def test_dask_local_cluster_results_equal_the_local_run(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "default_evaluator", lambda: scalar_evaluator)
    folder = tmp_path / "in"
    folder.mkdir()
    ids = [f"E{i:03d}" for i in range(30)]
    pl.DataFrame({"enterprise_id": ids, "name": ids, "province": ["上海市"] * 15 + ["北京市"] * 15,
                  "revenue_yuan": [str(i * 1000) for i in range(30)],
                  "hnte": [True, None, False] * 10}).write_parquet(folder / "enterprises.parquet")
    pl.DataFrame({"enterprise_id": ids[::3] + ["E999"], "project_id": ["P1"] * 11, "activities": ["rd"] * 11,
                  "fields": ["6g"] * 11, "total_input_yuan": ["2000000.50"] * 10 + ["x"]}).write_parquet(
        folder / "projects.parquet")
    local = run_batch(Job(folder, tmp_path / "local", AS_OF, "parquet"))
    dask = run_batch(Job(folder, tmp_path / "dask", AS_OF, "parquet", chunk_size=10, engine="dask-local",
                         evaluator_ref="tests.batch.conftest:scalar_evaluator"))
    assert local.counts.as_dict() == dask.counts.as_dict()
    assert dask.counts.reconciles and dask.counts.errors == 2  # E999: dangling, and a bad amount
    for name in ("summary", "details", "errors"):
        a = pl.read_parquet(tmp_path / "local" / name)
        b = pl.read_parquet(tmp_path / "dask" / name)
        assert a.height > 0 and a.sort(pl.all()).equals(b.sort(pl.all()))
