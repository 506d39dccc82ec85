"""databricks-sdk (Python) against the server under test: `statement_execution` with named
parameters and chunked results, `files` on a volume path, and the model registry
(`model_registry`, `registered_models`, `model_versions`) showing models registered through MLflow."""

from __future__ import annotations

import io

import mlflow
import mlflow.sklearn
import numpy as np
import pytest
from conftest import WEIR_ONLY, unique
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import NotFound
from databricks.sdk.service.catalog import VolumeType
from databricks.sdk.service.sql import StatementParameterListItem, StatementState
from sklearn.linear_model import LogisticRegression

# Unity Catalog, SQL statements and volume files are Weir's (and Databricks') APIs; a stock
# `mlflow server` has none of them. run.sh sets WEIR_INTEROP_TARGET=weir for every Weir run.
pytestmark = WEIR_ONLY


def sql_name(prefix: str) -> str:
    return unique(prefix).replace("-", "_")


def run_sql(w: WorkspaceClient, statement: str, **kwargs: object):
    res = w.statement_execution.execute_statement(statement=statement, warehouse_id="weir", wait_timeout="30s", **kwargs)
    assert res.status is not None and res.status.state == StatementState.SUCCEEDED, res.status
    return res


def test_execute_statement_with_named_parameters(w: WorkspaceClient) -> None:
    catalog = sql_name("dbx_sql")
    w.catalogs.create(name=catalog)
    w.schemas.create(name="s", catalog_name=catalog)
    run_sql(
        w,
        f"CREATE TABLE {catalog}.s.fish AS SELECT * FROM "
        "(VALUES (1, 'perch', 0.25), (2, 'pike', 3.5), (3, 'carp', 2.0)) AS t(id, kind, kg)",
    )
    res = run_sql(
        w,
        f"SELECT id, kind, kg FROM {catalog}.s.fish WHERE kg >= :min_kg AND kind <> :skip ORDER BY id",
        parameters=[
            StatementParameterListItem(name="min_kg", value="1.0", type="DOUBLE"),
            StatementParameterListItem(name="skip", value="carp", type="STRING"),
        ],
    )
    assert res.manifest is not None and res.manifest.schema is not None
    assert [c.name for c in res.manifest.schema.columns or []] == ["id", "kind", "kg"]
    # 3.5 was written as the literal 3.5 next to 0.25, so the column is DECIMAL(3,2)
    assert res.result is not None
    assert res.result.data_array == [["2", "pike", "3.50"]]

    again = w.statement_execution.get_statement(res.statement_id or "")
    assert again.status is not None and again.status.state == StatementState.SUCCEEDED
    assert again.result is not None and again.result.data_array == [["2", "pike", "3.50"]]

    with pytest.raises(NotFound):
        w.statement_execution.get_statement("no-such-statement")


def test_result_comes_back_in_chunks(w: WorkspaceClient) -> None:
    rows = 300_000
    res = run_sql(w, f"SELECT range AS n, repeat('x', 24) AS pad FROM range(0, {rows}) ORDER BY n")
    assert res.manifest is not None
    assert res.manifest.total_row_count == rows
    chunk_count = res.manifest.total_chunk_count or 0
    assert chunk_count > 1
    seen: list[int] = []
    assert res.result is not None
    seen.extend(int(r[0]) for r in res.result.data_array or [])
    next_index = res.result.next_chunk_index
    while next_index is not None:
        chunk = w.statement_execution.get_statement_result_chunk_n(res.statement_id or "", next_index)
        assert chunk.chunk_index == next_index
        seen.extend(int(r[0]) for r in chunk.data_array or [])
        next_index = chunk.next_chunk_index
    assert seen == list(range(rows))


def test_files_on_a_volume(w: WorkspaceClient) -> None:
    catalog = sql_name("dbx_files")
    w.catalogs.create(name=catalog)
    w.schemas.create(name="raw", catalog_name=catalog)
    w.volumes.create(catalog_name=catalog, schema_name="raw", name="landing", volume_type=VolumeType.MANAGED)
    base = f"/Volumes/{catalog}/raw/landing"
    payload = bytes(range(256)) * 1000 + "é 日本".encode()

    w.files.upload(f"{base}/in/data.bin", io.BytesIO(payload), overwrite=True)
    w.files.upload(f"{base}/in/readme.txt", io.BytesIO(b"hello volume"), overwrite=True)

    got = w.files.download(f"{base}/in/data.bin")
    assert got.contents is not None
    assert got.contents.read() == payload

    meta = w.files.get_metadata(f"{base}/in/data.bin")
    assert meta.content_length == len(payload)

    listing = sorted(w.files.list_directory_contents(f"{base}/in"), key=lambda e: e.name or "")
    assert [(e.name, e.is_directory, e.file_size) for e in listing] == [
        ("data.bin", False, len(payload)),
        ("readme.txt", False, len(b"hello volume")),
    ]
    assert [e.path for e in listing] == [f"{base}/in/data.bin", f"{base}/in/readme.txt"]

    w.files.delete(f"{base}/in/readme.txt")
    with pytest.raises(NotFound):
        w.files.get_metadata(f"{base}/in/readme.txt")


def test_model_registry_apis_show_mlflow_models(w: WorkspaceClient) -> None:
    name = sql_name("dbx_model")
    x = np.array([[0.0], [1.0], [2.0], [3.0]])
    y = np.array([0, 0, 1, 1])
    mlflow.set_experiment(unique("dbx-models"))
    for c in (1.0, 0.5):
        with mlflow.start_run():
            mlflow.sklearn.log_model(LogisticRegression(C=c).fit(x, y), name="model", registered_model_name=name)

    # workspace (MLflow-shaped) registry
    found = list(w.model_registry.search_models(filter=f"name = '{name}'"))
    assert [m.name for m in found] == [name]
    versions = sorted(w.model_registry.search_model_versions(filter=f"name = '{name}'"), key=lambda v: int(v.version or 0))
    assert [v.version for v in versions] == ["1", "2"]
    assert all(v.status is not None and v.status.value == "READY" for v in versions)
    assert name in [m.name for m in w.model_registry.list_models()]

    # Unity Catalog registry: the same models under main.default
    full = f"main.default.{name}"
    assert full in [m.full_name for m in w.registered_models.list(catalog_name="main", schema_name="default")]
    got = w.registered_models.get(full)
    assert (got.catalog_name, got.schema_name, got.name) == ("main", "default", name)
    uc_versions = sorted(w.model_versions.list(full), key=lambda v: v.version or 0)
    assert [v.version for v in uc_versions] == [1, 2]
    assert w.model_versions.get(full, 2).version == 2

    w.registered_models.set_alias(full, "champion", 2)
    assert w.model_versions.get_by_alias(full, "champion").version == 2
    assert mlflow.MlflowClient().get_model_version_by_alias(name, "champion").version == "2"
