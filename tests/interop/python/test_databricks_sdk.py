"""databricks-sdk (Python) `WorkspaceClient.experiments` against the server under test."""

from __future__ import annotations

import time

from conftest import unique
from databricks.sdk import WorkspaceClient
from databricks.sdk.service.ml import Metric, Param, RunTag


def test_experiments_round_trip(w: WorkspaceClient) -> None:
    name = unique("dbx-py")
    exp_id = w.experiments.create_experiment(name=name).experiment_id
    assert exp_id

    exp = w.experiments.get_experiment(exp_id).experiment
    assert exp is not None
    assert exp.experiment_id == exp_id
    assert exp.name == name
    assert exp.lifecycle_stage == "active"

    by_name = w.experiments.get_by_name(name).experiment
    assert by_name is not None and by_name.experiment_id == exp_id

    found = list(w.experiments.search_experiments(filter=f"name = '{name}'", max_results=10))
    assert [e.experiment_id for e in found] == [exp_id]
    assert found[0].name == name


def test_runs_log_batch_and_search(w: WorkspaceClient) -> None:
    exp_id = w.experiments.create_experiment(name=unique("dbx-py-runs")).experiment_id
    now = int(time.time() * 1000)
    run_ids: dict[str, str] = {}
    for idx, name in enumerate(["low", "mid", "high"]):
        run = w.experiments.create_run(
            experiment_id=exp_id,
            run_name=name,
            start_time=now,
            tags=[RunTag(key="source", value="databricks-sdk")],
        ).run
        assert run is not None and run.info is not None
        assert run.info.experiment_id == exp_id
        run_id = run.info.run_id
        assert run_id
        run_ids[name] = run_id
        w.experiments.log_batch(
            run_id=run_id,
            metrics=[
                Metric(key="m", value=float(idx * 10 + step), timestamp=now + step, step=step)
                for step in range(5)
            ],
            params=[Param(key="idx", value=str(idx))],
            tags=[RunTag(key="kind", value=name)],
        )

    got = w.experiments.get_run(run_ids["mid"]).run
    assert got is not None and got.data is not None
    assert {p.key: p.value for p in got.data.params or []} == {"idx": "1"}
    assert {m.key: m.value for m in got.data.metrics or []} == {"m": 14.0}
    tags = {t.key: t.value for t in got.data.tags or []}
    assert tags["kind"] == "mid"
    assert tags["source"] == "databricks-sdk"

    runs = list(
        w.experiments.search_runs(
            experiment_ids=[exp_id], filter="metrics.m >= 14", order_by=["metrics.m DESC"]
        )
    )
    assert [r.info.run_id for r in runs] == [run_ids["high"], run_ids["mid"]]
    assert [{m.key: m.value for m in r.data.metrics or []}["m"] for r in runs] == [24.0, 14.0]

    asc = list(
        w.experiments.search_runs(
            experiment_ids=[exp_id], filter="params.idx != '1'", order_by=["metrics.m ASC"]
        )
    )
    assert [r.info.run_id for r in asc] == [run_ids["low"], run_ids["high"]]

    history = list(w.experiments.get_history(metric_key="m", run_id=run_ids["high"]))
    assert sorted((h.step, h.value) for h in history) == [(s, 20.0 + s) for s in range(5)]
