"""databricks-sdk (Python) `statement_execution` with `format=ARROW_STREAM`: EXTERNAL_LINKS chunks
fetched without credentials (as clients fetch Databricks' presigned links) and INLINE results in
`result.attachment`, both decoded with pyarrow and compared with the JSON_ARRAY result of the same
query. pyarrow is installed with mlflow (a pinned dependency in requirements.txt)."""

from __future__ import annotations

import base64
import urllib.request

import pyarrow as pa
import pytest
from conftest import TRACKING_URI, WEIR_ONLY, unique
from databricks.sdk import WorkspaceClient
from databricks.sdk.service.sql import Disposition, Format, StatementState

pytestmark = WEIR_ONLY


@pytest.fixture(scope="module")
def table(w: WorkspaceClient) -> str:
    catalog = unique("arrow").replace("-", "_")
    w.catalogs.create(name=catalog)
    w.schemas.create(name="s", catalog_name=catalog)
    name = f"{catalog}.s.trips"
    res = w.statement_execution.execute_statement(
        statement=f"CREATE TABLE {name} AS SELECT range AS id, (range % 13)::INT AS zone, "
        "round(range * 0.37, 2)::DECIMAL(12,2) AS fare, DATE '2024-01-01' + (range % 366)::INT AS day, "
        "CASE WHEN range % 5 = 0 THEN NULL ELSE 'r' || range END AS note FROM range(400000)",
        warehouse_id="weir",
        wait_timeout="50s",
    )
    assert res.status is not None and res.status.state == StatementState.SUCCEEDED, res.status
    return name


def json_rows(w: WorkspaceClient, statement: str) -> list[list[str | None]]:
    res = w.statement_execution.execute_statement(statement=statement, warehouse_id="weir", wait_timeout="50s")
    assert res.status is not None and res.status.state == StatementState.SUCCEEDED, res.status
    assert res.result is not None and res.manifest is not None
    rows = list(res.result.data_array or [])
    chunk = res.result
    while chunk.next_chunk_index is not None:
        chunk = w.statement_execution.get_statement_result_chunk_n(res.statement_id or "", chunk.next_chunk_index)
        rows.extend(chunk.data_array or [])
    return rows


def as_text(table: pa.Table) -> list[list[str | None]]:
    """Arrow values rendered the way JSON_ARRAY renders them, to compare the two formats cell by cell."""
    out = []
    for row in table.to_pylist():
        cells = []
        for v in row.values():
            cells.append(None if v is None else (f"{v:.2f}" if hasattr(v, "as_tuple") else str(v)))
        out.append(cells)
    return out


def test_external_links_arrow_stream_decodes_with_pyarrow(w: WorkspaceClient, table: str) -> None:
    query = f"SELECT id, zone, fare, day, note FROM {table} ORDER BY id"
    res = w.statement_execution.execute_statement(
        statement=query,
        warehouse_id="weir",
        wait_timeout="50s",
        disposition=Disposition.EXTERNAL_LINKS,
        format=Format.ARROW_STREAM,
    )
    assert res.status is not None and res.status.state == StatementState.SUCCEEDED, res.status
    assert res.manifest is not None and res.manifest.format == Format.ARROW_STREAM
    assert (res.manifest.total_chunk_count or 0) > 1
    batches: list[pa.Table] = []
    links = (res.result.external_links if res.result else None) or []
    while links:
        link = links[0]
        assert link.external_link is not None and link.external_link.startswith(TRACKING_URI)
        # Presigned-style: fetched with no Authorization header, exactly as clients fetch Databricks' links.
        with urllib.request.urlopen(link.external_link) as resp:
            payload = resp.read()
        assert len(payload) == link.byte_count
        part = pa.ipc.open_stream(payload).read_all()
        assert part.num_rows == link.row_count
        batches.append(part)
        if link.next_chunk_index is None:
            break
        links = w.statement_execution.get_statement_result_chunk_n(res.statement_id or "", link.next_chunk_index).external_links or []
    arrow = pa.concat_tables(batches)
    assert arrow.num_rows == 400_000
    assert arrow.schema.field("id").type == pa.int64()
    assert arrow.schema.field("zone").type == pa.int32()
    assert arrow.schema.field("fare").type == pa.decimal128(12, 2)
    assert arrow.schema.field("day").type == pa.date32()
    assert arrow.schema.field("note").type == pa.string()
    assert as_text(arrow) == json_rows(w, query)


def test_inline_arrow_stream_attachment_decodes_with_pyarrow(w: WorkspaceClient, table: str) -> None:
    query = f"SELECT zone, count(*) AS n, sum(fare) AS total, min(day) AS first FROM {table} GROUP BY zone ORDER BY zone"
    # The SDK's ResultData has no `attachment` field (it drops unknown fields), so read the raw response.
    raw = w.api_client.do(
        "POST",
        "/api/2.0/sql/statements/",
        body={"statement": query, "warehouse_id": "weir", "wait_timeout": "30s", "format": "ARROW_STREAM"},
    )
    assert raw["status"]["state"] == "SUCCEEDED", raw["status"]
    assert raw["manifest"]["format"] == "ARROW_STREAM"
    arrow = pa.ipc.open_stream(base64.b64decode(raw["result"]["attachment"])).read_all()
    assert arrow.column_names == ["zone", "n", "total", "first"]
    assert as_text(arrow) == json_rows(w, query)
