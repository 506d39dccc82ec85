"""MLflow registry flow on a real table: penguins (vega-datasets) loaded into a Weir table with SQL,
read back, a scikit-learn model trained on it, converted with skl2onnx, logged with
`mlflow.onnx.log_model(registered_model_name=...)`, aliased and loaded by alias; the sklearn flavor
round-trips through the registry too, and a version stays loadable after its source run is deleted."""

from __future__ import annotations

import json
import os
from pathlib import Path

import mlflow
import mlflow.onnx
import mlflow.pyfunc
import mlflow.sklearn
import numpy as np
import pytest
import yaml
from conftest import admin_headers, http, unique
from mlflow.tracking import MlflowClient
from skl2onnx import to_onnx
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

PENGUINS = Path(__file__).resolve().parents[3] / "node_modules" / "vega-datasets" / "data" / "penguins.json"
FEATURES = ["beak_length_mm", "beak_depth_mm", "flipper_length_mm", "body_mass_g"]
SOURCE_KEYS = ["Beak Length (mm)", "Beak Depth (mm)", "Flipper Length (mm)", "Body Mass (g)"]


def sql(statement: str) -> dict:
    res = http(
        "POST",
        "/api/2.0/sql/statements",
        {"statement": statement, "warehouse_id": "weir", "wait_timeout": "30s"},
        admin_headers(),
    )
    assert res.status == 200, res.body
    body = res.json()
    assert isinstance(body, dict) and body["status"]["state"] == "SUCCEEDED", body
    return body


@pytest.fixture(scope="module")
def penguins() -> tuple[np.ndarray, np.ndarray]:
    """Complete penguin rows, written to a Weir table and read back from it."""
    records = json.loads(PENGUINS.read_text())
    complete = [r for r in records if all(r.get(k) is not None for k in [*SOURCE_KEYS, "Species"])]
    assert len(complete) == 342  # the two rows of the dataset without measurements are dropped
    if os.environ.get("WEIR_INTEROP_TARGET") != "weir":
        # a stock MLflow server has no SQL API: train on the file itself
        x = np.array([[float(r[k]) for k in SOURCE_KEYS] for r in complete], dtype=np.float32)
        return x, np.array([r["Species"] for r in complete])
    table = f"main.default.{unique('penguins').replace('-', '_')}"
    values = ", ".join(
        f"({i}, '{r['Species']}', {', '.join(str(float(r[k])) for k in SOURCE_KEYS)})" for i, r in enumerate(complete)
    )
    sql(f"CREATE TABLE {table} AS SELECT * FROM (VALUES {values}) AS t(id, species, {', '.join(FEATURES)})")
    body = sql(f"SELECT species, {', '.join(FEATURES)} FROM {table} ORDER BY id")
    rows = body["result"]["data_array"]
    assert body["manifest"]["total_row_count"] == len(complete) == len(rows)
    x = np.array([[float(v) for v in row[1:]] for row in rows], dtype=np.float32)
    y = np.array([row[0] for row in rows])
    assert x[0].tolist() == pytest.approx([39.1, 18.7, 181.0, 3750.0])
    assert sorted(set(y.tolist())) == ["Adelie", "Chinstrap", "Gentoo"]
    return x, y


def test_onnx_model_registered_aliased_and_loaded_by_alias(penguins: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = penguins
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(x, y)
    assert model.score(x, y) > 0.9
    onx = to_onnx(model, x[:1], options={LogisticRegression: {"zipmap": False}})

    name = unique("penguins-onnx")
    mlflow.set_experiment(unique("onnx-registry"))
    with mlflow.start_run() as run:
        info = mlflow.onnx.log_model(onx, name="model", registered_model_name=name)
    assert str(info.registered_model_version) == "1"

    client = MlflowClient()
    client.set_registered_model_alias(name, "champion", "1")
    assert client.get_model_version_by_alias(name, "champion").version == "1"
    assert client.get_model_version(name, "1").run_id == run.info.run_id

    loaded = mlflow.pyfunc.load_model(f"models:/{name}@champion")
    out = loaded.predict(x)
    assert isinstance(out, dict)
    assert out["label"].tolist() == model.predict(x).tolist()
    np.testing.assert_allclose(out["probabilities"], model.predict_proba(x), atol=1e-5)

    # the version is a copy: deleting the run that produced it leaves it loadable
    client.delete_run(run.info.run_id)
    assert client.get_run(run.info.run_id).info.lifecycle_stage == "deleted"
    again = mlflow.pyfunc.load_model(f"models:/{name}/1")
    np.testing.assert_allclose(again.predict(x)["probabilities"], model.predict_proba(x), atol=1e-5)


def test_sklearn_flavor_round_trips_through_the_registry(
    penguins: tuple[np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    x, y = penguins
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(x, y)
    name = unique("penguins-sklearn")
    mlflow.set_experiment(unique("sklearn-registry"))
    with mlflow.start_run() as run:
        info = mlflow.sklearn.log_model(model, name="model", registered_model_name=name)

    client = MlflowClient()
    version = client.get_model_version(name, "1")
    assert version.run_id == run.info.run_id
    assert version.status == "READY"

    loaded = mlflow.sklearn.load_model(f"models:/{name}/1")
    assert loaded.predict(x).tolist() == model.predict(x).tolist()
    np.testing.assert_allclose(loaded[-1].coef_, model[-1].coef_, rtol=0, atol=0)

    files = Path(mlflow.artifacts.download_artifacts(f"models:/{name}/1", dst_path=str(tmp_path)))
    mlmodel = yaml.safe_load((files / "MLmodel").read_text())
    assert mlmodel["model_id"] == info.model_id
    serialized = mlmodel["flavors"]["sklearn"]["pickled_model"]
    assert (files / serialized).stat().st_size > 0
    assert (files / "requirements.txt").read_text().count("scikit-learn") == 1

    client.delete_run(run.info.run_id)
    after = mlflow.sklearn.load_model(f"models:/{name}/1")
    assert after.predict(x).tolist() == model.predict(x).tolist()
