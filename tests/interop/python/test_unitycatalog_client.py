"""unitycatalog-client (the OSS Unity Catalog Python client) against the server under test:
catalogs and schemas created through it, tables (made by Weir's SQL API), volumes, functions
and registered models (made by MLflow) listed and read back through it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import mlflow
import mlflow.sklearn
import numpy as np
import pytest
from conftest import TRACKING_URI, WEIR_ONLY, admin_headers, http, require_token, unique
from sklearn.linear_model import LogisticRegression
from unitycatalog.client import (
    ApiClient,
    ApiException,
    CatalogsApi,
    Configuration,
    CreateCatalog,
    CreateFunction,
    CreateFunctionRequest,
    CreateSchema,
    CreateVolumeRequestContent,
    FunctionsApi,
    ModelVersionsApi,
    RegisteredModelsApi,
    SchemasApi,
    TablesApi,
    VolumesApi,
)

# Unity Catalog, SQL statements and volume files are Weir's (and Databricks') APIs; a stock
# `mlflow server` has none of them. run.sh sets WEIR_INTEROP_TARGET=weir for every Weir run.
pytestmark = WEIR_ONLY

T = TypeVar("T")


def run_uc(body: Callable[[ApiClient], Awaitable[T]]) -> T:
    """Runs one async block with a client bound to the server's UC API and the admin bearer token."""

    async def main() -> T:
        config = Configuration(host=TRACKING_URI + "/api/2.1/unity-catalog")
        client = ApiClient(config, header_name="Authorization", header_value=f"Bearer {require_token()}")
        try:
            return await body(client)
        finally:
            await client.close()

    return asyncio.run(main())


def sql(statement: str) -> dict:
    res = http(
        "POST",
        "/api/2.0/sql/statements",
        {"statement": statement, "warehouse_id": "weir", "wait_timeout": "30s"},
        admin_headers(),
    )
    assert res.status == 200, res.body
    body = res.json()
    assert isinstance(body, dict)
    assert body["status"]["state"] == "SUCCEEDED", body
    return body


def sql_name(text: str) -> str:
    # UC names from unique() carry dashes; SQL identifiers here use underscores
    return text.replace("-", "_")


def test_catalogs_schemas_tables_volumes_functions() -> None:
    catalog = sql_name(unique("uc_cat"))
    schema = "sales"

    async def body(client: ApiClient) -> None:
        catalogs, schemas = CatalogsApi(client), SchemasApi(client)
        created = await catalogs.create_catalog(CreateCatalog(name=catalog, comment="made by the UC client"))
        assert created.name == catalog
        assert created.comment == "made by the UC client"
        got = await catalogs.get_catalog(catalog)
        assert got.name == catalog and got.id == created.id
        listed = await catalogs.list_catalogs()
        names = [c.name for c in listed.catalogs or []]
        assert catalog in names and "main" in names

        made = await schemas.create_schema(CreateSchema(name=schema, catalog_name=catalog, comment="orders"))
        assert made.full_name == f"{catalog}.{schema}"
        got_schema = await schemas.get_schema(f"{catalog}.{schema}")
        assert got_schema.catalog_name == catalog and got_schema.comment == "orders"
        assert [s.name for s in (await schemas.list_schemas(catalog_name=catalog)).schemas or []] == [schema]

        with pytest.raises(ApiException) as missing:
            await catalogs.get_catalog(catalog + "_missing")
        assert missing.value.status == 404

    run_uc(body)

    sql(
        f"CREATE TABLE {catalog}.{schema}.orders AS "
        "SELECT * FROM (VALUES (1, 'ann', 9.5), (2, 'bob', 20.25)) AS t(id, customer, amount)"
    )

    async def read_back(client: ApiClient) -> None:
        tables = TablesApi(client)
        listed = await tables.list_tables(catalog_name=catalog, schema_name=schema)
        assert [t.name for t in listed.tables or []] == ["orders"]
        table = await tables.get_table(f"{catalog}.{schema}.orders")
        # the OSS TableInfo model has no full_name; the three parts carry it
        assert (table.catalog_name, table.schema_name, table.name) == (catalog, schema, "orders")
        assert str(table.table_type.value if table.table_type else "") == "MANAGED"
        assert str(table.data_source_format.value if table.data_source_format else "") == "DELTA"
        assert [c.name for c in table.columns or []] == ["id", "customer", "amount"]
        assert table.storage_location

        volumes = VolumesApi(client)
        vol = await volumes.create_volume(
            CreateVolumeRequestContent(catalog_name=catalog, schema_name=schema, name="landing", volume_type="MANAGED")
        )
        assert vol.full_name == f"{catalog}.{schema}.landing"
        assert (await volumes.get_volume(f"{catalog}.{schema}.landing")).volume_id == vol.volume_id
        vlist = await volumes.list_volumes(catalog_name=catalog, schema_name=schema)
        assert [v.name for v in vlist.volumes or []] == ["landing"]

        functions = FunctionsApi(client)
        fn = await functions.create_function(
            CreateFunctionRequest(
                function_info=CreateFunction.from_dict(
                    {
                        "name": "add_tax",
                        "catalog_name": catalog,
                        "schema_name": schema,
                        "input_params": {
                            "parameters": [
                                {
                                    "name": "amount",
                                    "type_text": "double",
                                    "type_name": "DOUBLE",
                                    "type_json": '{"name":"amount","type":"double","nullable":true,"metadata":{}}',
                                    "position": 0,
                                }
                            ]
                        },
                        "data_type": "DOUBLE",
                        "full_data_type": "double",
                        "routine_body": "SQL",
                        "routine_definition": "amount * 1.2",
                        "parameter_style": "S",
                        "is_deterministic": True,
                        "sql_data_access": "CONTAINS_SQL",
                        "is_null_call": False,
                        "security_type": "DEFINER",
                        "specific_name": "add_tax",
                    }
                )
            )
        )
        assert fn.full_name == f"{catalog}.{schema}.add_tax"
        got_fn = await functions.get_function(f"{catalog}.{schema}.add_tax")
        assert got_fn.routine_definition == "amount * 1.2"
        assert got_fn.input_params is not None
        assert [p.name for p in got_fn.input_params.parameters or []] == ["amount"]
        flist = await functions.list_functions(catalog_name=catalog, schema_name=schema)
        assert [f.name for f in flist.functions or []] == ["add_tax"]

    run_uc(read_back)


def test_lists_models_registered_through_mlflow() -> None:
    name = sql_name(unique("uc_model"))
    x = np.array([[0.0], [1.0], [2.0], [3.0]])
    y = np.array([0, 0, 1, 1])
    mlflow.set_experiment(unique("uc-models"))
    with mlflow.start_run():
        mlflow.sklearn.log_model(LogisticRegression().fit(x, y), name="model", registered_model_name=name)

    async def body(client: ApiClient) -> None:
        models = RegisteredModelsApi(client)
        listed = await models.list_registered_models(catalog_name="main", schema_name="default")
        full_names = [m.full_name for m in listed.registered_models or []]
        assert f"main.default.{name}" in full_names
        got = await models.get_registered_model(f"main.default.{name}")
        assert got.name == name and got.catalog_name == "main" and got.schema_name == "default"
        versions = await ModelVersionsApi(client).list_model_versions(f"main.default.{name}")
        assert [v.version for v in versions.model_versions or []] == [1]

    run_uc(body)
