"""Python `mlflow` 3.x client against the server under test: fluent API and MlflowClient."""

from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.parse import quote

import mlflow
import mlflow.data
import pandas as pd
from conftest import admin_headers, http, unique
from mlflow.entities import Metric, Param, RunTag
from mlflow.tracking import MlflowClient

BIN_PAYLOAD = bytes(range(256)) * 300  # 76,800 bytes, every byte value


def _make_artifacts(tmp_path: Path) -> tuple[Path, Path]:
    single = tmp_path / "src" / "hello.txt"
    single.parent.mkdir(parents=True)
    single.write_bytes("hello weir \u00e9\u00e8\n".encode())
    outdir = tmp_path / "src" / "outdir"
    (outdir / "sub").mkdir(parents=True)
    (outdir / "config.json").write_text(json.dumps({"lr": 0.01, "layers": [64, 32]}))
    (outdir / "sub" / "blob.bin").write_bytes(BIN_PAYLOAD)
    (outdir / "sub" / "notes with space.txt").write_text("spaces in names\n")
    return single, outdir


def test_fluent_run_round_trip(tmp_path: Path) -> None:
    exp_name = unique("fluent")
    exp = mlflow.set_experiment(exp_name)
    assert exp.name == exp_name
    assert exp.lifecycle_stage == "active"
    # set_experiment on an existing name returns the same experiment
    assert mlflow.set_experiment(exp_name).experiment_id == exp.experiment_id

    single, outdir = _make_artifacts(tmp_path)
    losses = [1.0, 0.7, 0.45, 0.3]
    with mlflow.start_run(run_name="fluent-run") as run:
        run_id = run.info.run_id
        assert run.info.experiment_id == exp.experiment_id
        assert run.info.status == "RUNNING"
        mlflow.log_param("alpha", 0.5)
        mlflow.log_params({"layers": 3, "optimizer": "adam"})
        for step, value in enumerate(losses):
            mlflow.log_metric("loss", value, step=step)
        mlflow.log_metrics({"acc": 0.8, "f1": 0.75}, step=7)
        mlflow.set_tag("team", "weir")
        mlflow.set_tags({"stage": "interop", "unicode": "\u00fcn\u00efc\u00f8d\u00e9"})
        mlflow.log_artifact(str(single))
        mlflow.log_artifacts(str(outdir), artifact_path="outputs")

    client = MlflowClient()
    got = client.get_run(run_id)
    assert got.info.run_id == run_id
    assert got.info.experiment_id == exp.experiment_id
    assert got.info.run_name == "fluent-run"
    assert got.info.status == "FINISHED"
    assert got.info.end_time is not None and got.info.end_time >= got.info.start_time
    assert got.info.lifecycle_stage == "active"
    assert got.data.params == {"alpha": "0.5", "layers": "3", "optimizer": "adam"}
    # latest value per key = value at the highest step
    assert got.data.metrics == {"loss": 0.3, "acc": 0.8, "f1": 0.75}
    tags = got.data.tags
    assert tags["team"] == "weir"
    assert tags["stage"] == "interop"
    assert tags["unicode"] == "\u00fcn\u00efc\u00f8d\u00e9"
    assert tags["mlflow.runName"] == "fluent-run"
    assert tags.get("mlflow.user"), "fluent start_run sends mlflow.user"
    assert tags.get("mlflow.source.type") == "LOCAL"

    history = client.get_metric_history(run_id, "loss")
    assert sorted((m.step, m.value) for m in history) == list(enumerate(losses))
    assert all(m.key == "loss" and m.timestamp > 0 for m in history)
    acc = client.get_metric_history(run_id, "acc")
    assert [(m.step, m.value) for m in acc] == [(7, 0.8)]

    # artifacts went through the server's proxy, not to a local path
    assert got.info.artifact_uri.startswith(("mlflow-artifacts:", "http://", "https://")), (
        got.info.artifact_uri
    )
    root = {fi.path: fi for fi in client.list_artifacts(run_id)}
    assert set(root) == {"hello.txt", "outputs"}
    assert root["outputs"].is_dir
    assert not root["hello.txt"].is_dir
    assert root["hello.txt"].file_size == single.stat().st_size
    outputs = {fi.path: fi for fi in client.list_artifacts(run_id, "outputs")}
    assert set(outputs) == {"outputs/config.json", "outputs/sub"}
    assert outputs["outputs/sub"].is_dir
    sub = {fi.path: fi for fi in client.list_artifacts(run_id, "outputs/sub")}
    assert set(sub) == {"outputs/sub/blob.bin", "outputs/sub/notes with space.txt"}
    assert sub["outputs/sub/blob.bin"].file_size == len(BIN_PAYLOAD)

    dest = tmp_path / "download"
    local = Path(mlflow.artifacts.download_artifacts(run_id=run_id, dst_path=str(dest)))
    assert (local / "hello.txt").read_bytes() == single.read_bytes()
    assert (local / "outputs" / "config.json").read_bytes() == (outdir / "config.json").read_bytes()
    assert (local / "outputs" / "sub" / "blob.bin").read_bytes() == BIN_PAYLOAD
    assert (local / "outputs" / "sub" / "notes with space.txt").read_text() == "spaces in names\n"

    one = Path(
        client.download_artifacts(run_id, "outputs/sub/blob.bin", dst_path=str(tmp_path / "one"))
    )
    assert one.read_bytes() == BIN_PAYLOAD

    # the same bytes through the raw artifact proxy route
    if got.info.artifact_uri.startswith("mlflow-artifacts:"):
        rel = got.info.artifact_uri[len("mlflow-artifacts:") :].lstrip("/")
        res = http(
            "GET",
            f"/api/2.0/mlflow-artifacts/artifacts/{quote(rel)}/outputs/sub/blob.bin",
            headers=admin_headers(),
        )
        assert res.status == 200
        assert res.body == BIN_PAYLOAD


def _seed_scored_runs(client: MlflowClient, exp_id: str) -> dict[str, str]:
    scores = {"r1": 0.9, "r2": 0.2, "r3": 0.55, "r4": 0.75, "r5": 0.4}
    ids: dict[str, str] = {}
    now = int(time.time() * 1000)
    for name, score in scores.items():
        run = client.create_run(exp_id, run_name=name)
        ids[name] = run.info.run_id
        client.log_batch(
            run.info.run_id,
            metrics=[Metric("score", score, now, 0)],
            params=[Param("family", "a" if score > 0.5 else "b")],
            tags=[RunTag("scored", "yes")],
        )
        client.set_terminated(run.info.run_id)
    return ids


def test_search_runs_filter_and_order() -> None:
    client = MlflowClient()
    exp_id = client.create_experiment(unique("search"))
    ids = _seed_scored_runs(client, exp_id)
    by_id = {v: k for k, v in ids.items()}

    def names(runs) -> list[str]:
        return [by_id[r.info.run_id] for r in runs]

    desc = client.search_runs(
        [exp_id], filter_string="metrics.score > 0.3", order_by=["metrics.score DESC"]
    )
    assert names(desc) == ["r1", "r4", "r3", "r5"]
    assert [r.data.metrics["score"] for r in desc] == [0.9, 0.75, 0.55, 0.4]

    asc = client.search_runs(
        [exp_id], filter_string="params.family = 'a'", order_by=["metrics.score ASC"]
    )
    assert names(asc) == ["r3", "r4", "r1"]
    assert all(r.data.params["family"] == "a" for r in asc)

    both = client.search_runs(
        [exp_id],
        filter_string="metrics.score >= 0.4 and params.family = 'b' and tags.scored = 'yes'",
        order_by=["metrics.score DESC"],
    )
    assert names(both) == ["r5"]

    by_name = client.search_runs([exp_id], filter_string="attributes.run_name = 'r2'")
    assert names(by_name) == ["r2"]

    # pagination keeps the order across pages
    page1 = client.search_runs([exp_id], order_by=["metrics.score DESC"], max_results=2)
    assert names(page1) == ["r1", "r4"]
    assert page1.token
    page2 = client.search_runs(
        [exp_id], order_by=["metrics.score DESC"], max_results=2, page_token=page1.token
    )
    assert names(page2) == ["r3", "r5"]
    page3 = client.search_runs(
        [exp_id], order_by=["metrics.score DESC"], max_results=2, page_token=page2.token
    )
    assert names(page3) == ["r2"]
    assert not page3.token

    # fluent search_runs returns a pandas DataFrame
    df = mlflow.search_runs(
        experiment_ids=[exp_id],
        filter_string="metrics.score < 0.6",
        order_by=["metrics.score ASC"],
    )
    assert isinstance(df, pd.DataFrame)
    assert df["tags.mlflow.runName"].tolist() == ["r2", "r5", "r3"]
    assert df["metrics.score"].tolist() == [0.2, 0.4, 0.55]
    assert df["status"].tolist() == ["FINISHED"] * 3


def test_log_input_dataset_round_trip() -> None:
    mlflow.set_experiment(unique("dataset"))
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": [0.0, 1.0, 0.0, 1.0]})
    dataset = mlflow.data.from_pandas(df, name="train-set", targets="y")
    with mlflow.start_run() as run:
        mlflow.log_input(dataset, context="training")
    got = MlflowClient().get_run(run.info.run_id)
    inputs = got.inputs.dataset_inputs
    assert len(inputs) == 1
    ds = inputs[0].dataset
    assert ds.name == "train-set"
    assert ds.digest == dataset.digest
    assert ds.source_type == dataset.source._get_source_type()
    assert json.loads(ds.schema) == json.loads(dataset._to_mlflow_entity().schema)
    assert json.loads(ds.profile) == {"num_rows": 4, "num_elements": 8}
    assert json.loads(ds.source) == json.loads(dataset.source.to_json())
    tags = {t.key: t.value for t in inputs[0].tags}
    assert tags.get("mlflow.data.context") == "training"


def test_experiment_lookup_and_errors() -> None:
    client = MlflowClient()
    name = unique("lookup")
    exp_id = client.create_experiment(name, tags={"owner": "interop"})
    exp = client.get_experiment_by_name(name)
    assert exp is not None
    assert exp.experiment_id == exp_id
    assert exp.tags.get("owner") == "interop"
    # unknown name maps to None (drives set_experiment's create-if-missing)
    assert client.get_experiment_by_name(unique("missing")) is None
    found = client.search_experiments(filter_string=f"name = '{name}'")
    assert [e.experiment_id for e in found] == [exp_id]
    # duplicate name -> RESOURCE_ALREADY_EXISTS
    try:
        client.create_experiment(name)
    except mlflow.exceptions.MlflowException as err:
        assert err.error_code == "RESOURCE_ALREADY_EXISTS"
    else:
        raise AssertionError("duplicate experiment name was accepted")
    # unknown run -> RESOURCE_DOES_NOT_EXIST
    try:
        client.get_run("0" * 32)
    except mlflow.exceptions.MlflowException as err:
        assert err.error_code == "RESOURCE_DOES_NOT_EXIST"
    else:
        raise AssertionError("get_run of an unknown id succeeded")
