"""Spark through Weir's grants (started by weir-governed.ts, which passes a spec file and a work dir).

As a granted user it makes the two calls the Unity Catalog Spark connector makes before reading a table
(GET /tables/{full_name}, then POST /temporary-table-credentials with the table_id), then reads the table with
Spark at the location the credentials name; for a table the user holds no grant on, both calls must be refused
(403), so there is no location to read."""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request

from peers import check as record
from peers import spark_session

UC = "/api/2.1/unity-catalog"


def check(ok, what):
    """Records the check like the other peers do, and stops at the first failure (later steps need its result)."""
    record(ok, what)
    if not ok:
        print("governed Spark read: FAILED", flush=True)
        sys.exit(1)


def call(spec, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        spec["url"] + path,
        data=data,
        method=method,
        headers={"Authorization": f"Bearer {spec['token']}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def main(spec_file, work):
    spec = json.loads(open(spec_file).read())

    status, table = call(spec, "GET", f"{UC}/tables/{spec['granted']}")
    check(status == 200, f"GET granted table as the user: {status} {table}")
    status, creds = call(spec, "POST", f"{UC}/temporary-table-credentials", {"table_id": table["table_id"], "operation": "READ"})
    check(status == 200, f"READ credentials for the granted table: {status} {creds}")
    check(creds.get("url") == table["storage_location"], f"credentials name the table's location: {creds}")
    check(not creds.get("aws_temp_credentials") and not creds.get("gcp_oauth_token"), "a local table needs no cloud credentials")
    status, denied = call(spec, "POST", f"{UC}/temporary-table-credentials", {"table_id": table["table_id"], "operation": "READ_WRITE"})
    check(status == 403, f"READ_WRITE without MODIFY is refused: {status} {denied}")

    spark = spark_session(work)
    try:
        df = spark.read.format("delta").load(creds["url"])
        rows = df.count()
        total = df.agg({"doubled": "sum"}).collect()[0][0]
        check(rows == spec["expectedRows"] and total == spec["expectedSum"], f"Spark read the granted table: {rows} rows, sum {total}")
    finally:
        spark.stop()

    status, closed = call(spec, "GET", f"{UC}/tables/{spec['closed']}")
    check(status == 403, f"GET of the ungranted table is refused: {status} {closed}")
    check(closed.get("storage_location") is None, "a refused GET reveals no location")
    # Even with the id in hand (learnt some other way), the credentials call is refused on its own.
    status, refused = call(spec, "POST", f"{UC}/temporary-table-credentials", {"table_id": spec["closedTableId"], "operation": "READ"})
    check(status == 403 and "url" not in refused, f"READ credentials for the ungranted table are refused: {status} {refused}")
    print("governed Spark read: PASSED", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
