"""Authentication as real clients do it: Bearer token, Basic with the token as password, none."""

from __future__ import annotations

import os
from pathlib import Path

import mlflow
import pytest
from conftest import basic, bearer, http, require_token, unique
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

SEARCH = "/api/2.0/mlflow/experiments/search?max_results=1"


def test_health_is_public() -> None:
    res = http("GET", "/health")
    assert res.status == 200
    assert res.body.strip() == b"OK"


def test_bearer_token_accepted() -> None:
    token = require_token()
    res = http("GET", SEARCH, headers=bearer(token))
    assert res.status == 200, res.body
    assert isinstance(res.json(), dict)


def test_request_without_token_is_401() -> None:
    require_token()
    res = http("GET", SEARCH)
    assert res.status == 401, (res.status, res.body[:200])
    res = http("POST", "/api/2.0/mlflow/experiments/create", {"name": unique("noauth")})
    assert res.status == 401, (res.status, res.body[:200])
    res = http("GET", "/api/2.0/mlflow-artifacts/artifacts?path=0")
    assert res.status == 401, (res.status, res.body[:200])


def test_wrong_credentials_are_401() -> None:
    token = require_token()
    assert http("GET", SEARCH, headers=bearer(token + "x")).status == 401
    assert http("GET", SEARCH, headers=bearer("dapi-not-a-token")).status == 401
    assert http("GET", SEARCH, headers=basic("someone", token + "x")).status == 401


def test_python_client_without_token_gets_401(monkeypatch: pytest.MonkeyPatch) -> None:
    require_token()
    monkeypatch.delenv("MLFLOW_TRACKING_TOKEN", raising=False)
    with pytest.raises(MlflowException) as info:
        MlflowClient().search_experiments(max_results=1)
    assert info.value.get_http_status_code() == 401


def test_basic_auth_fluent_flow(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    token = require_token()
    # Weir accepts any user name with the token as password; WEIR_INTEROP_BASIC_USER
    # lets this test run against stock `mlflow server --app-name basic-auth` (admin).
    user = os.environ.get("WEIR_INTEROP_BASIC_USER", "interop-basic-user")
    assert http("GET", SEARCH, headers=basic(user, token)).status == 200
    monkeypatch.delenv("MLFLOW_TRACKING_TOKEN", raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", user)
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", token)

    artifact = tmp_path / "basic.txt"
    artifact.write_bytes(b"basic auth artifact\n")
    exp = mlflow.set_experiment(unique("basic"))
    with mlflow.start_run() as run:
        mlflow.log_param("auth", "basic")
        mlflow.log_metric("m", 2.5, step=3)
        mlflow.log_artifact(str(artifact))
    client = MlflowClient()
    got = client.get_run(run.info.run_id)
    assert got.info.experiment_id == exp.experiment_id
    assert got.data.params == {"auth": "basic"}
    assert got.data.metrics == {"m": 2.5}
    assert [(m.step, m.value) for m in client.get_metric_history(run.info.run_id, "m")] == [
        (3, 2.5)
    ]
    dl = Path(client.download_artifacts(run.info.run_id, "basic.txt", str(tmp_path / "dl")))
    assert dl.read_bytes() == b"basic auth artifact\n"
