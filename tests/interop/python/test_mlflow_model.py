"""MLflow 3.x model flow: sklearn log_model (logged-models API + artifact upload), load it back,
register it, alias it and load it through the registry."""

from __future__ import annotations

import mlflow
import mlflow.pyfunc
import mlflow.sklearn
import numpy as np
from conftest import unique
from mlflow.entities import LoggedModelStatus
from mlflow.tracking import MlflowClient
from sklearn.linear_model import LogisticRegression

X = np.array([[0.0, 1.0], [1.0, 0.5], [2.0, 0.1], [3.0, -0.5], [4.0, -1.0], [5.0, -2.0]])
Y = np.array([0, 0, 0, 1, 1, 1])


def _model() -> LogisticRegression:
    return LogisticRegression().fit(X, Y)


def test_sklearn_log_model_and_load_back() -> None:
    model = _model()
    mlflow.set_experiment(unique("model"))
    with mlflow.start_run() as run:
        mlflow.log_metric("train_acc", float(model.score(X, Y)), step=1)
        info = mlflow.sklearn.log_model(model, name="model", input_example=X[:2])
    assert info.run_id == run.info.run_id
    assert info.model_id

    loaded = mlflow.pyfunc.load_model(info.model_uri)  # models:/<model_id>
    assert loaded.predict(X).tolist() == model.predict(X).tolist()
    sk = mlflow.sklearn.load_model(info.model_uri)
    assert np.allclose(sk.coef_, model.coef_)

    logged = MlflowClient().get_logged_model(info.model_id)
    assert logged.status == LoggedModelStatus.READY
    assert logged.source_run_id == run.info.run_id


def test_register_alias_and_load_from_registry() -> None:
    model = _model()
    name = unique("registered")
    mlflow.set_experiment(unique("registry"))
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(model, name="model", registered_model_name=name)
    client = MlflowClient()
    versions = client.search_model_versions(f"name = '{name}'")
    assert [v.version for v in versions] == ["1"]
    assert versions[0].status == "READY"

    client.set_registered_model_alias(name, "champion", "1")
    assert client.get_model_version_by_alias(name, "champion").version == "1"
    assert client.get_registered_model(name).aliases == {"champion": "1"}

    by_alias = mlflow.pyfunc.load_model(f"models:/{name}@champion")
    assert by_alias.predict(X).tolist() == model.predict(X).tolist()
    by_version = mlflow.pyfunc.load_model(f"models:/{name}/1")
    assert by_version.predict(X).tolist() == model.predict(X).tolist()
    assert str(info.registered_model_version) == "1"
