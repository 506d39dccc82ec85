"""Unity Catalog grants through the real clients: unitycatalog-client's GrantsApi (OSS spelling, `USE CATALOG`)
and the Databricks SDK's `w.grants` (Databricks spelling, `USE_CATALOG`), with a grantee reading a table only
once granted through a group."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest
from conftest import TRACKING_URI, WEIR_ONLY, admin_headers, basic, bearer, http, require_token, unique, workspace_client
from databricks.sdk import WorkspaceClient
from databricks.sdk.service.catalog import PermissionsChange as DbxChange
from databricks.sdk.service.catalog import Privilege as DbxPrivilege
from unitycatalog.client import (
    ApiClient,
    ApiException,
    CatalogsApi,
    Configuration,
    CreateCatalog,
    CreateSchema,
    GrantsApi,
    PermissionsChange,
    Privilege,
    SchemasApi,
    SecurableType,
    TablesApi,
    UpdatePermissions,
)

pytestmark = WEIR_ONLY

T = TypeVar("T")


def run_uc(body: Callable[[ApiClient], Awaitable[T]], token: str) -> T:
    async def main() -> T:
        client = ApiClient(
            Configuration(host=TRACKING_URI + "/api/2.1/unity-catalog"),
            header_name="Authorization",
            header_value=f"Bearer {token}",
        )
        try:
            return await body(client)
        finally:
            await client.close()

    return asyncio.run(main())


def sql(statement: str) -> None:
    res = http("POST", "/api/2.0/sql/statements", {"statement": statement, "wait_timeout": "30s"}, admin_headers())
    assert res.status == 200, res.body
    assert res.json()["status"]["state"] == "SUCCEEDED", res.body


def new_user_in_group() -> tuple[str, str, str]:
    """A user (with a token) inside a new group; returns (user name, token, group name)."""
    user, password, group = f"{unique('grantee')}@example.com", "interop-password-0123456789", unique("readers")
    made = http("POST", "/api/2.0/preview/scim/v2/Users", {"userName": user, "password": password}, admin_headers())
    assert made.status == 201, made.body
    user_id = made.json()["id"]
    grp = http("POST", "/api/2.0/preview/scim/v2/Groups", {"displayName": group, "members": [{"value": user_id}]}, admin_headers())
    assert grp.status == 201, grp.body
    tok = http("POST", "/api/2.0/token/create", {"comment": "interop"}, basic(user, password))
    assert tok.status == 200, tok.body
    return user, tok.json()["token_value"], group


def test_unitycatalog_client_grants_and_reads_permissions() -> None:
    admin = require_token()
    catalog = unique("grants_oss").replace("-", "_")
    user, user_token, group = new_user_in_group()

    async def setup(client: ApiClient) -> None:
        await CatalogsApi(client).create_catalog(CreateCatalog(name=catalog))
        await SchemasApi(client).create_schema(CreateSchema(name="s", catalog_name=catalog))

    run_uc(setup, admin)
    sql(f"CREATE TABLE {catalog}.s.t AS SELECT 1 AS id")

    async def refused(client: ApiClient) -> None:
        with pytest.raises(ApiException) as err:
            await TablesApi(client).get_table(f"{catalog}.s.t")
        assert err.value.status == 403

    run_uc(refused, user_token)

    async def grant(client: ApiClient) -> None:
        grants = GrantsApi(client)
        for securable_type, name, privileges in (
            (SecurableType.CATALOG, catalog, [Privilege.USE_CATALOG]),
            (SecurableType.SCHEMA, f"{catalog}.s", [Privilege.USE_SCHEMA]),
            (SecurableType.TABLE, f"{catalog}.s.t", [Privilege.SELECT]),
        ):
            answer = await grants.update(
                securable_type, name, UpdatePermissions(changes=[PermissionsChange(principal=group, add=privileges, remove=[])])
            )
            assert [(a.principal, a.privileges) for a in answer.privilege_assignments or []] == [(group, privileges)]
        read = await grants.get(SecurableType.CATALOG, catalog)
        assert [(a.principal, a.privileges) for a in read.privilege_assignments or []] == [(group, [Privilege.USE_CATALOG])]
        only = await grants.get(SecurableType.SCHEMA, f"{catalog}.s", principal=group)
        assert [a.privileges for a in only.privilege_assignments or []] == [[Privilege.USE_SCHEMA]]

    run_uc(grant, admin)

    async def allowed(client: ApiClient) -> None:
        table = await TablesApi(client).get_table(f"{catalog}.s.t")
        assert table.name == "t"
        listed = await TablesApi(client).list_tables(catalog_name=catalog, schema_name="s")
        assert [t.name for t in listed.tables or []] == ["t"]

    run_uc(allowed, user_token)

    async def revoke(client: ApiClient) -> None:
        answer = await GrantsApi(client).update(
            SecurableType.TABLE,
            f"{catalog}.s.t",
            # the OSS model requires both lists
            UpdatePermissions(changes=[PermissionsChange(principal=group, add=[], remove=[Privilege.SELECT])]),
        )
        assert answer.privilege_assignments in (None, [])

    run_uc(revoke, admin)
    run_uc(refused, user_token)


@pytest.fixture(scope="module")
def w() -> WorkspaceClient:
    return workspace_client(require_token())


def test_databricks_sdk_grants_update_get_and_effective(w: WorkspaceClient) -> None:
    catalog = unique("grants_dbx").replace("-", "_")
    user, user_token, group = new_user_in_group()
    w.catalogs.create(name=catalog)
    w.schemas.create(name="s", catalog_name=catalog)
    sql(f"CREATE TABLE {catalog}.s.t AS SELECT 1 AS id")

    updated = w.grants.update(
        securable_type="catalog",
        full_name=catalog,
        changes=[DbxChange(principal=group, add=[DbxPrivilege.USE_CATALOG, DbxPrivilege.USE_SCHEMA])],
    )
    assert [(a.principal, sorted(p.value for p in a.privileges or [])) for a in updated.privilege_assignments or []] == [
        (group, ["USE_CATALOG", "USE_SCHEMA"])
    ]
    w.grants.update(securable_type="table", full_name=f"{catalog}.s.t", changes=[DbxChange(principal=group, add=[DbxPrivilege.SELECT])])
    got = w.grants.get(securable_type="table", full_name=f"{catalog}.s.t")
    assert [(a.principal, [p.value for p in a.privileges or []]) for a in got.privilege_assignments or []] == [(group, ["SELECT"])]

    effective = w.grants.get_effective(securable_type="table", full_name=f"{catalog}.s.t", principal=user)
    assigned = effective.privilege_assignments or []
    assert [a.principal for a in assigned] == [user]
    seen = {
        (p.privilege.value if p.privilege else None, p.inherited_from_type.value if p.inherited_from_type else None, p.inherited_from_name)
        for p in assigned[0].privileges or []
    }
    assert seen == {
        ("SELECT", None, None),
        ("USE_CATALOG", "CATALOG", catalog),
        ("USE_SCHEMA", "CATALOG", catalog),
    }

    # A privilege that does not apply to the type is refused and changes nothing.
    bad = http(
        "PATCH",
        f"/api/2.1/unity-catalog/permissions/table/{catalog}.s.t",
        {"changes": [{"principal": group, "add": ["READ_VOLUME"]}]},
        admin_headers(),
    )
    assert bad.status == 400
    # The grantee cannot grant (no MANAGE, not the owner).
    refused = http(
        "PATCH",
        f"/api/2.1/unity-catalog/permissions/table/{catalog}.s.t",
        {"changes": [{"principal": user, "add": ["MODIFY"]}]},
        bearer(user_token),
    )
    assert refused.status == 403
