"""SQL governance through real clients: the Databricks SDK's `statement_execution` runs GRANT, REVOKE and
SHOW GRANTS and a granted user's queries (an ungranted table stays closed, also through a join), and the OSS
`unitycatalog-client` asks for temporary table credentials the way the Spark Unity Catalog connector does
(`POST /temporary-table-credentials`): a granted table answers with its location and no cloud credentials,
an ungranted one is refused."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from conftest import TRACKING_URI, WEIR_ONLY, basic, bearer, http, require_token, unique
from databricks.sdk import WorkspaceClient
from databricks.sdk.config import Config
from databricks.sdk.service.sql import StatementState
from unitycatalog.client import ApiClient, ApiException, Configuration, GenerateTemporaryTableCredential, TemporaryCredentialsApi

pytestmark = WEIR_ONLY


def _client(token: str) -> WorkspaceClient:
    return WorkspaceClient(config=Config(host=TRACKING_URI, token=token, auth_type="pat", retry_timeout_seconds=30))


def _run(w: WorkspaceClient, statement: str):
    return w.statement_execution.execute_statement(statement=statement, warehouse_id="weir", wait_timeout="30s")


def _ok(w: WorkspaceClient, statement: str) -> list[list[str | None]]:
    res = _run(w, statement)
    assert res.status is not None and res.status.state == StatementState.SUCCEEDED, (statement, res.status)
    return (res.result.data_array if res.result else None) or []


def _refused(w: WorkspaceClient, statement: str) -> None:
    res = _run(w, statement)
    assert res.status is not None and res.status.state == StatementState.FAILED, (statement, res.status)
    # The SDK's ServiceErrorCode enum has no PERMISSION_DENIED (it reads it as None); the message names the refusal.
    assert res.status.error is not None and "[INSUFFICIENT_PERMISSIONS]" in (res.status.error.message or ""), (statement, res.status.error)


def _user() -> tuple[str, str]:
    name = unique("gov") + "@example.com"
    password = "Pw-" + uuid.uuid4().hex
    res = http("POST", "/api/2.0/preview/scim/v2/Users", {"userName": name, "password": password}, headers=bearer(require_token()))
    assert res.status in (200, 201), res.body[:300]
    res = http("POST", "/api/2.0/token/create", {"comment": "gov"}, headers=basic(name, password))
    assert res.status == 200, res.body[:300]
    return name, res.json()["token_value"]  # type: ignore[index]


def _table_credentials(token: str, table_id: str, operation: str):
    async def main():
        client = ApiClient(
            Configuration(host=TRACKING_URI + "/api/2.1/unity-catalog"), header_name="Authorization", header_value=f"Bearer {token}"
        )
        try:
            return await TemporaryCredentialsApi(client).generate_temporary_table_credentials(
                GenerateTemporaryTableCredential(table_id=table_id, operation=operation)
            )
        finally:
            await client.close()

    return asyncio.run(main())


def test_grants_in_sql_and_temporary_credentials_for_granted_tables_only() -> None:
    admin = _client(require_token())
    catalog = unique("gov_cat").replace("-", "_")
    name, token = _user()
    _ok(admin, f"CREATE CATALOG {catalog}")
    _ok(admin, f"CREATE SCHEMA {catalog}.s")
    _ok(admin, f"CREATE TABLE {catalog}.s.shared AS SELECT * FROM (VALUES (1, 'a'), (2, 'b')) t(id, v)")
    _ok(admin, f"CREATE TABLE {catalog}.s.private AS SELECT * FROM (VALUES (1, 'x')) t(id, secret)")
    _ok(admin, f"GRANT USE CATALOG ON CATALOG {catalog} TO `{name}`")
    _ok(admin, f"GRANT USE SCHEMA ON SCHEMA {catalog}.s TO `{name}`")
    _ok(admin, f"GRANT SELECT ON TABLE {catalog}.s.shared TO `{name}`")
    grants = _ok(admin, f"SHOW GRANTS `{name}` ON TABLE {catalog}.s.shared")
    assert [name, "SELECT", "TABLE", f"{catalog}.s.shared"] in grants

    user = _client(token)
    assert _ok(user, f"SELECT count(*) FROM {catalog}.s.shared") == [["2"]]
    _refused(user, f"SELECT * FROM {catalog}.s.private")
    _refused(user, f"SELECT * FROM {catalog}.s.shared JOIN {catalog}.s.private USING (id)")

    shared = admin.tables.get(f"{catalog}.s.shared")
    private = admin.tables.get(f"{catalog}.s.private")
    assert shared.table_id and private.table_id
    creds = _table_credentials(token, shared.table_id, "READ")
    assert creds.url == shared.storage_location
    assert creds.expiration_time is not None and creds.aws_temp_credentials is None
    with pytest.raises(ApiException) as refused:
        _table_credentials(token, private.table_id, "READ")
    assert refused.value.status == 403
    with pytest.raises(ApiException) as no_modify:
        _table_credentials(token, shared.table_id, "READ_WRITE")
    assert no_modify.value.status == 403

    _ok(admin, f"REVOKE SELECT ON TABLE {catalog}.s.shared FROM `{name}`")
    _refused(user, f"SELECT count(*) FROM {catalog}.s.shared")
    with pytest.raises(ApiException):
        _table_credentials(token, shared.table_id, "READ")
