"""databricks-sdk (Python) against Weir's governance edges: SCIM errors parsed with their
`scimType`, the lineage-tracking API called with a JSON body on GET (how the SDK's API client
sends parameters), and grants that follow an object through a rename and vanish with a drop.

Weir-only (WEIR_INTEROP_TARGET=weir, set by tests/interop/run.sh)."""

from __future__ import annotations


import pytest
from conftest import WEIR_ONLY, unique
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import BadRequest, ResourceConflict
from databricks.sdk.service.catalog import PermissionsChange, Privilege
from databricks.sdk.service.sql import StatementState

pytestmark = WEIR_ONLY


def run_sql(w: WorkspaceClient, statement: str) -> None:
    res = w.statement_execution.execute_statement(statement=statement, warehouse_id="weir", wait_timeout="30s")
    assert res.status is not None and res.status.state == StatementState.SUCCEEDED, res.status


def test_scim_errors_carry_their_scim_type(w: WorkspaceClient) -> None:
    name = unique("scim-type") + "@example.com"
    w.users.create(user_name=name)
    # The SDK prefixes a SCIM error's message with its scimType.
    with pytest.raises(ResourceConflict) as conflict:
        w.users.create(user_name=name)
    assert str(conflict.value).startswith("uniqueness ")
    with pytest.raises(BadRequest) as bad_filter:
        list(w.users.list(filter="userName eq"))
    assert str(bad_filter.value).startswith("invalidFilter ")


def test_lineage_tracking_reads_a_json_body_on_get(w: WorkspaceClient) -> None:
    schema = unique("lin_body").replace("-", "_")
    run_sql(w, f"CREATE SCHEMA main.{schema}")
    run_sql(w, f"CREATE TABLE main.{schema}.src (id BIGINT, v DOUBLE)")
    run_sql(w, f"CREATE TABLE main.{schema}.dst AS SELECT id, v * 2 AS w FROM main.{schema}.src")
    table = w.api_client.do(
        "GET", "/api/2.0/lineage-tracking/table-lineage", body={"table_name": f"main.{schema}.dst", "include_entity_lineage": True}
    )
    assert [u["tableInfo"]["name"] for u in table["upstreams"]] == ["src"]
    column = w.api_client.do(
        "GET", "/api/2.0/lineage-tracking/column-lineage", body={"table_name": f"main.{schema}.dst", "column_name": "w"}
    )
    assert [(c["table_name"], c["name"]) for c in column["upstream_cols"]] == [("src", "v")]


def test_grants_follow_renames_and_vanish_with_drops(w: WorkspaceClient) -> None:
    schema = unique("grant_move").replace("-", "_")
    group = w.groups.create(display_name=unique("grant-move-readers"))
    run_sql(w, f"CREATE SCHEMA main.{schema}")
    run_sql(w, f"CREATE TABLE main.{schema}.t (id BIGINT)")
    w.grants.update(
        securable_type="table",
        full_name=f"main.{schema}.t",
        changes=[PermissionsChange(principal=group.display_name, add=[Privilege.SELECT])],
    )
    run_sql(w, f"ALTER TABLE main.{schema}.t RENAME TO t2")
    moved = w.grants.get(securable_type="table", full_name=f"main.{schema}.t2")
    assert [(a.principal, [p.value for p in a.privileges or []]) for a in moved.privilege_assignments or []] == [
        (group.display_name, ["SELECT"])
    ]
    run_sql(w, f"DROP TABLE main.{schema}.t2")
    run_sql(w, f"CREATE TABLE main.{schema}.t2 (id BIGINT)")
    assert not (w.grants.get(securable_type="table", full_name=f"main.{schema}.t2").privilege_assignments or [])
