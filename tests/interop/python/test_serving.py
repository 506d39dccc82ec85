"""Model serving through the Python clients: a random forest trained on penguins read from a Weir table,
converted with skl2onnx, logged with `mlflow.onnx.log_model` and registered, is deployed with the
`databricks-sdk` (`serving_endpoints.create_and_wait` / `query` / `update_config_and_wait`), switched to a
second version under continuous queries with no failed request, and its traffic lands in the payload table.
Predictions equal scikit-learn's (labels exactly, probabilities within 1e-5). An `mlflow.sklearn` model (no
onnx flavor) is served by a Python worker when the server runs with `--python` (run.sh starts it so).

Weir only (serving endpoints, SQL): runs with WEIR_INTEROP_TARGET=weir.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from pathlib import Path

import mlflow
import mlflow.onnx
import mlflow.sklearn
import numpy as np
import pandas as pd
import pytest
from conftest import TRACKING_URI, WEIR_ONLY, admin_headers, basic, bearer, http, require_token, unique
from databricks.sdk import WorkspaceClient
from databricks.sdk.core import Config
from databricks.sdk.service.serving import (
    AutoCaptureConfigInput,
    DataframeSplitInput,
    EndpointCoreConfigInput,
    ServedEntityInput,
    ServingEndpointAccessControlRequest,
    ServingEndpointPermissionLevel,
)
from skl2onnx import to_onnx
from sklearn.ensemble import RandomForestClassifier

pytestmark = WEIR_ONLY

PENGUINS = Path(__file__).resolve().parents[3] / "node_modules" / "vega-datasets" / "data" / "penguins.json"
FEATURES = ["beak_length_mm", "beak_depth_mm", "flipper_length_mm", "body_mass_g"]
SOURCE_KEYS = ["Beak Length (mm)", "Beak Depth (mm)", "Flipper Length (mm)", "Body Mass (g)"]


def _client() -> WorkspaceClient:
    return WorkspaceClient(
        config=Config(host=TRACKING_URI, token=require_token(), auth_type="pat", retry_timeout_seconds=60)
    )


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
    """Complete penguin rows, written to a Weir table with SQL and read back from it."""
    records = json.loads(PENGUINS.read_text())
    complete = [r for r in records if all(r.get(k) is not None for k in [*SOURCE_KEYS, "Species"])]
    table = f"main.default.{unique('serving_penguins').replace('-', '_')}"
    values = ", ".join(
        f"({i}, '{r['Species']}', {', '.join(str(float(r[k])) for k in SOURCE_KEYS)})" for i, r in enumerate(complete)
    )
    sql(f"CREATE TABLE {table} AS SELECT * FROM (VALUES {values}) AS t(id, species, {', '.join(FEATURES)})")
    body = sql(f"SELECT species, {', '.join(FEATURES)} FROM {table} ORDER BY id")
    rows = body["result"]["data_array"]
    assert len(rows) == len(complete) == 342
    x = np.array([[float(v) for v in row[1:]] for row in rows], dtype=np.float32)
    y = np.array([row[0] for row in rows])
    return x, y


def _log_onnx_forest(x: np.ndarray, y: np.ndarray, name: str, seed: int) -> RandomForestClassifier:
    forest = RandomForestClassifier(n_estimators=30, max_depth=6, random_state=seed).fit(x, y)
    onx = to_onnx(forest, x[:1], options={RandomForestClassifier: {"zipmap": False}})
    with mlflow.start_run():
        mlflow.onnx.log_model(onx, name="model", registered_model_name=name, input_example=x[:2])
    return forest


def _check(predictions: list, forest: RandomForestClassifier, x: np.ndarray) -> None:
    """Served answers (one record per row: label and probabilities) against scikit-learn's own."""
    assert [p["label"] for p in predictions] == forest.predict(x).tolist()
    np.testing.assert_allclose(np.array([p["probabilities"] for p in predictions]), forest.predict_proba(x), atol=1e-5)


def test_onnx_forest_deployed_switched_and_captured_through_databricks_sdk(penguins) -> None:
    x, y = penguins
    w = _client()
    model = unique("penguin-forest")
    mlflow.set_experiment(unique("serving"))
    forest1 = _log_onnx_forest(x, y, model, seed=1)
    forest2 = _log_onnx_forest(x, y, model, seed=2)
    assert forest1.predict_proba(x).tolist() != forest2.predict_proba(x).tolist()

    name = unique("penguins").replace("-", "_")
    prefix = name
    endpoint = w.serving_endpoints.create_and_wait(
        name=name,
        config=EndpointCoreConfigInput(name=name, 
            served_entities=[
                ServedEntityInput(entity_name=model, entity_version="1", workload_size="Small", scale_to_zero_enabled=False)
            ],
            auto_capture_config=AutoCaptureConfigInput(
                catalog_name="main", schema_name="default", table_name_prefix=prefix, enabled=True
            ),
        ),
    )
    assert endpoint.state is not None and endpoint.state.ready.value == "READY"
    assert endpoint.config is not None and endpoint.config.served_entities[0].entity_version == "1"

    # Every scoring format the SDK sends, on every penguin.
    sent = 0
    split = w.serving_endpoints.query(
        name=name, dataframe_split=DataframeSplitInput(columns=FEATURES, data=x.tolist()), client_request_id="split"
    )
    _check(split.predictions, forest1, x)
    assert split.served_model_name == f"{model}-1"
    records = w.serving_endpoints.query(name=name, dataframe_records=[dict(zip(FEATURES, r)) for r in x.tolist()])
    _check(records.predictions, forest1, x)
    tensor = w.serving_endpoints.query(name=name, inputs=x.tolist())
    _check(tensor.predictions, forest1, x)
    instances = w.serving_endpoints.query(name=name, instances=x[:5].tolist())
    _check(instances.predictions, forest1, x[:5])
    sent += 4

    # Switch to version 2 while four clients keep querying: no request may fail, and every answer is one version's.
    stop = threading.Event()
    failures: list[str] = []
    answered = [0]
    lock = threading.Lock()
    row = x[:3]
    # Each version answers under its own served entity name, which the SDK reads from the served-model-name header.
    by_entity = {f"{model}-1": forest1, f"{model}-2": forest2}

    def client() -> None:
        mine = _client()
        while not stop.is_set():
            try:
                res = mine.serving_endpoints.query(name=name, inputs=row.tolist())
                forest = by_entity.get(res.served_model_name or "")
                if forest is None:
                    failures.append(f"answer from an unknown entity {res.served_model_name}")
                else:
                    _check(res.predictions, forest, row)
            except Exception as err:  # any failure is what this test exists to catch
                failures.append(repr(err))
            with lock:
                answered[0] += 1

    threads = [threading.Thread(target=client) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        while answered[0] < 20:
            time.sleep(0.05)
        updated = w.serving_endpoints.update_config_and_wait(
            name=name,
            served_entities=[ServedEntityInput(entity_name=model, entity_version="2", workload_size="Small")],
        )
        assert updated.config is not None and updated.config.served_entities[0].entity_version == "2"
        after = answered[0]
        while answered[0] < after + 20:
            time.sleep(0.05)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert failures == []
    sent += answered[0]
    _check(w.serving_endpoints.query(name=name, inputs=x.tolist()).predictions, forest2, x)
    sent += 1

    # Every request is in the payload table once its micro-batch is flushed.
    table = f"main.default.{prefix}_payload"
    count = -1
    deadline = time.time() + 120
    while time.time() < deadline:
        res = http(
            "POST",
            "/api/2.0/sql/statements",
            {"statement": f"SELECT count(*), count(DISTINCT databricks_request_id) FROM {table}", "warehouse_id": "weir"},
            admin_headers(),
        )
        body = res.json()
        if res.status == 200 and body["status"]["state"] == "SUCCEEDED":
            count, distinct = (int(v) for v in body["result"]["data_array"][0])
            assert count == distinct
            if count >= sent:
                break
        time.sleep(0.5)
    assert count == sent
    versions = sql(f"SELECT model_version, count(*) FROM {table} GROUP BY model_version ORDER BY model_version")
    assert [r[0] for r in versions["result"]["data_array"]] == ["1", "2"]
    tagged = sql(f"SELECT status_code, request FROM {table} WHERE client_request_id = 'split'")
    assert tagged["result"]["data_array"][0][0] == "200"
    assert json.loads(tagged["result"]["data_array"][0][1])["dataframe_split"]["columns"] == FEATURES

    w.serving_endpoints.delete(name=name)


def test_endpoint_permissions_in_serving_level_names() -> None:
    w = _client()
    model = unique("perm-forest")
    x = np.array([[1, 2, 3, 4], [4, 3, 2, 1]], dtype=np.float32)
    mlflow.set_experiment(unique("serving-perm"))
    _log_onnx_forest(x, np.array(["a", "b"]), model, seed=0)
    name = unique("perm").replace("-", "_")
    ep = w.serving_endpoints.create_and_wait(
        name=name, config=EndpointCoreConfigInput(name=name, served_entities=[ServedEntityInput(entity_name=model, entity_version="1")])
    )
    user = unique("querier") + "@example.com"
    password = "Pw-" + uuid.uuid4().hex
    assert http("POST", "/api/2.0/preview/scim/v2/Users", {"userName": user, "password": password}, admin_headers()).status == 201
    user_token = http("POST", "/api/2.0/token/create", {}, basic(user, password)).json()["token_value"]
    body = {"inputs": x.tolist()}
    assert http("POST", f"/serving-endpoints/{name}/invocations", body, bearer(user_token)).status == 403

    perms = w.serving_endpoints.set_permissions(
        serving_endpoint_id=ep.id,
        access_control_list=[
            ServingEndpointAccessControlRequest(user_name=user, permission_level=ServingEndpointPermissionLevel.CAN_QUERY)
        ],
    )
    granted = [a for a in perms.access_control_list if a.user_name == user]
    assert granted[0].all_permissions[0].permission_level == ServingEndpointPermissionLevel.CAN_QUERY
    got = w.serving_endpoints.get_permissions(serving_endpoint_id=ep.id)
    assert [a.all_permissions[0].permission_level for a in got.access_control_list if a.user_name == user] == [
        ServingEndpointPermissionLevel.CAN_QUERY
    ]
    levels = w.serving_endpoints.get_permission_levels(serving_endpoint_id=ep.id)
    assert [lv.permission_level for lv in levels.permission_levels] == [
        ServingEndpointPermissionLevel.CAN_VIEW,
        ServingEndpointPermissionLevel.CAN_QUERY,
        ServingEndpointPermissionLevel.CAN_MANAGE,
    ]
    res = http("POST", f"/serving-endpoints/{name}/invocations", body, bearer(user_token))
    assert res.status == 200, res.body
    w.serving_endpoints.delete(name=name)


def test_sklearn_flavor_served_by_a_python_worker(penguins) -> None:
    x, y = penguins
    w = _client()
    model = unique("penguin-sklearn")
    mlflow.set_experiment(unique("serving-python"))
    # float64 columns: the signature says double, which is what JSON numbers are.
    frame = pd.DataFrame(x.astype(np.float64), columns=FEATURES)
    forest = RandomForestClassifier(n_estimators=20, max_depth=5, random_state=3).fit(frame, y)
    with mlflow.start_run():
        # MLflow 3 saves with skops, which loads tree ensembles only when their node storage is trusted by name.
        mlflow.sklearn.log_model(
            forest,
            name="model",
            registered_model_name=model,
            input_example=frame.head(2),
            skops_trusted_types=["sklearn.tree._tree.Tree"],
        )
    name = unique("worker").replace("-", "_")
    ep = w.serving_endpoints.create_and_wait(
        name=name, config=EndpointCoreConfigInput(name=name, served_entities=[ServedEntityInput(entity_name=model, entity_version="1")])
    )
    assert ep.state is not None and ep.state.ready.value == "READY"
    res = w.serving_endpoints.query(name=name, dataframe_split=DataframeSplitInput(columns=FEATURES, data=frame.values.tolist()))
    assert res.predictions == forest.predict(frame).tolist()
    records = w.serving_endpoints.query(name=name, dataframe_records=frame.head(7).to_dict(orient="records"))
    assert records.predictions == forest.predict(frame.head(7)).tolist()
    logs = http("GET", f"/api/2.0/serving-endpoints/{name}/served-models/{ep.config.served_entities[0].name}/build-logs", headers=admin_headers())
    assert "Python worker" in logs.json()["logs"]
    # Weir checks the request before the worker sees it: a missing column is refused naming it.
    bad = http(
        "POST",
        f"/serving-endpoints/{name}/invocations",
        {"dataframe_records": [{k: 1.0 for k in FEATURES[:3]}]},
        admin_headers(),
    )
    assert bad.status == 400
    assert FEATURES[3] in bad.json()["message"]
    w.serving_endpoints.delete(name=name)
