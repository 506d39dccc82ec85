"""delta-rs side of bench/delta: times one operation inside the process and prints {"seconds": ...}.

  python peer.py write <source.parquet> <table-dir>
  python peer.py merge <table-dir> <source.parquet>
"""

import json
import sys
import time

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from deltalake import DeltaTable, write_deltalake


def utc(table):
    # Naive timestamps would make delta-rs write timestamp_ntz (protocol 3/7); Weir writes UTC timestamps.
    cols = []
    for i, field in enumerate(table.schema):
        col = table.column(i)
        if pa.types.is_timestamp(field.type) and field.type.tz is None:
            col = pc.assume_timezone(col.cast(pa.timestamp("us")), "UTC")
        cols.append(col)
    return pa.Table.from_arrays(cols, names=table.schema.names)


def main():
    op = sys.argv[1]
    start = time.perf_counter()
    if op == "write":
        write_deltalake(sys.argv[3], utc(pq.read_table(sys.argv[2])))
        result = {}
    elif op == "merge":
        source = utc(pq.read_table(sys.argv[3]))
        metrics = (
            DeltaTable(sys.argv[2])
            .merge(source=source, predicate="t.id = s.id", source_alias="s", target_alias="t")
            .when_matched_update(updates={"delay": "s.delay"})
            .execute()
        )
        result = {"updated": metrics.get("num_target_rows_updated")}
    else:
        sys.exit(f"unknown op {op}")
    print(json.dumps({"seconds": time.perf_counter() - start, **result}))


if __name__ == "__main__":
    main()
