"""The Ray backend, for real: a local Ray instance with 2 CPUs, no mock."""

from __future__ import annotations

import pytest

from experiments.batch import run_batch
from experiments.design import load_design

ray = pytest.importorskip("ray")

FILES = ("runs.parquet", "timeseries.parquet", "events.parquet")


@pytest.mark.ray
@pytest.mark.slow
def test_ray_gives_the_same_files_as_local_processes(tmp_path):
    design = load_design("baseline", runs=16, set_overrides=["meta.months=24"])
    local = run_batch(design, tmp_path / "local", workers=2, progress=False)
    on_ray = run_batch(design, tmp_path / "ray", backend="ray", workers=2, progress=False)
    assert not ray.is_initialized()  # the batch started its own instance and shut it down
    assert (on_ray.n_ok, on_ray.manifest["backend"], on_ray.manifest["workers"]) == (16, "ray", 2)
    assert local.n_ok == 16
    for name in FILES:
        assert (tmp_path / "ray" / name).read_bytes() == (tmp_path / "local" / name).read_bytes(), name
