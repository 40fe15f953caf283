"""Blocks of simulations: the same numbers whatever runs them, and prefixes that hold."""

from __future__ import annotations

import pickle
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pytest

from forecastlib.outturn import forecast_outturn
from forecastlib.simulation import SIM_BLOCK, DemandModels, simulate_remaining
from forecastlib.simulation import blocks as module
from forecastlib.simulation.blocks import BlockJob, run_blocks, simulate_block


@pytest.fixture(scope="module")
def lac(sample):
    """The sample's children's placements (moves between lines included) and models."""
    placements = sample.placements[sample.placements["service"] == "LAC Placements"]
    budget = sample.budget[sample.budget["service"] == "LAC Placements"]
    actuals = sample.actuals[sample.actuals["service"] == "LAC Placements"]
    models = DemandModels.fit(placements, sample.as_at)
    return placements, budget, actuals, sample.as_at, models


def _forecast(lac, simulations, executor=None):
    placements, budget, actuals, as_at, models = lac
    return forecast_outturn(placements, budget, as_at, actuals=actuals, models=models,
                            simulations=simulations, seed=11, executor=executor)


def _same(one, other):
    for name in ("paths", "outturns", "process_only", "no_common", "year_end_running"):
        np.testing.assert_array_equal(getattr(one, name), getattr(other, name), err_msg=name)


def test_threads_and_processes_give_exactly_the_local_numbers(lac):
    simulations = SIM_BLOCK * 2 + 300  # three blocks, the last partial
    local = _forecast(lac, simulations)
    assert local.paths.shape[1] == simulations
    with ThreadPoolExecutor(3) as pool:
        threads = _forecast(lac, simulations, pool)
    _same(local, threads)
    assert threads.notes == local.notes
    with ProcessPoolExecutor(2) as pool:
        _same(local, _forecast(lac, simulations, pool))
    # the first whole blocks are those of a shorter run
    shorter = _forecast(lac, SIM_BLOCK)
    np.testing.assert_array_equal(shorter.paths, local.paths[:, :SIM_BLOCK])
    np.testing.assert_array_equal(shorter.year_end_running,
                                  local.year_end_running[:, :SIM_BLOCK])


@pytest.mark.slow
def test_a_dask_cluster_gives_exactly_the_local_numbers(lac):
    distributed = pytest.importorskip("distributed")
    simulations = SIM_BLOCK + 200
    local = _forecast(lac, simulations)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        _same(local, _forecast(lac, simulations, client.get_executor()))


def test_the_first_simulations_do_not_depend_on_how_many_follow(lac, monkeypatch):
    monkeypatch.setattr(module, "SIM_BLOCK", 100)
    placements, _, _, as_at, models = lac
    few, _, _ = simulate_remaining(placements, as_at, models, simulations=100, seed=4)
    many, _, _ = simulate_remaining(placements, as_at, models, simulations=500, seed=4)
    assert (few.lines == many.lines).all()
    np.testing.assert_array_equal(few.paths, many.paths[:, :100])
    np.testing.assert_array_equal(few.running, many.running[:, :100])
    np.testing.assert_array_equal(few.no_common, many.no_common[:, :100])
    # another seed, other numbers; another block, other numbers
    other, _, _ = simulate_remaining(placements, as_at, models, simulations=100, seed=5)
    assert not np.array_equal(other.paths, few.paths)
    assert not np.array_equal(many.paths[:, :100], many.paths[:, 100:200])


def test_a_block_is_a_pure_function_of_the_job_and_its_number(lac, monkeypatch):
    monkeypatch.setattr(module, "SIM_BLOCK", 50)
    placements, _, _, as_at, models = lac
    captured = {}

    def keep(job, executor=None, progress=None):
        captured["job"] = job
        return original(job, executor, progress)

    original = module.simulate_blocks
    monkeypatch.setattr("forecastlib.simulation.engine.simulate_blocks", keep)
    whole, _, _ = simulate_remaining(placements, as_at, models, simulations=130, seed=2)
    job = pickle.loads(pickle.dumps(captured["job"]))  # what a process receives
    assert isinstance(job, BlockJob) and job.blocks == 3 and job.span(2) == (100, 30)
    last = simulate_block(job, 2)
    np.testing.assert_array_equal(last.paths, whole.paths[:, 100:130])
    np.testing.assert_array_equal(last.running, whole.running[:, 100:130])
    assert [out.block for out in run_blocks(job, range(1, 3))] == [1, 2]


def test_one_simulation_is_the_first_of_many(lac):
    placements, _, _, as_at, models = lac
    one, _, _ = simulate_remaining(placements, as_at, models, simulations=1, seed=0)
    assert one.paths.shape[1] == 1 and np.isfinite(one.paths).all()
    assert (np.diff(one.paths, axis=2) >= -1e-6).all()  # cumulative spend never falls
