"""The delta-rs (`deltalake`) and Spark (`delta-spark`) half of the Delta interop suite.

  python peers.py <weir-dir> <peer-dir> <work-dir>

(a) reads every table Weir wrote under <weir-dir> with both peers and compares the rows with the
    DuckDB-computed <table>.expected.json beside it, and checks DESCRIBE HISTORY;
(b) writes tables with each peer under <peer-dir> (partitions, checkpoints, MERGE, DELETE, UPDATE)
    and records, per version, the rows the writing peer reads back and a time just after the
    commit, for weir-read.ts;
(c) appends from Spark while a Weir process (weir-append.ts) appends to the same table, then checks
    that every row of both writers is there.

Exits non-zero on any mismatch; every check prints a line.
"""

import datetime
import decimal
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake
from delta import configure_spark_with_delta_pip
from pyspark.sql import SparkSession
from pyspark.sql import types as T

from canonical import canonical_rows, kind_of, sorted_rows

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent.parent
FAILURES = []


def check(ok, what):
    print(("  ok   " if ok else "  FAIL ") + what, flush=True)
    if not ok:
        FAILURES.append(what)


def same_rows(columns, got, want, what):
    g, w = sorted_rows(columns, got), sorted_rows(columns, want)
    if g == w:
        check(True, f"{what}: {len(g)} rows identical")
        return
    missing = [r for r in w if r not in set(g)][:3]
    extra = [r for r in g if r not in set(w)][:3]
    check(False, f"{what}: got {len(g)} rows, want {len(w)}; missing e.g. {missing}; unexpected e.g. {extra}")


def spark_session(work):
    ivy = HERE / ".ivy2"
    settings = HERE / "ivysettings.xml"
    builder = (
        SparkSession.builder.appName("weir-delta-interop")
        .master("local[2]")
        .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
        .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
        .config("spark.sql.session.timeZone", "UTC")
        # Only Maven Central is consulted, and its downloads are kept next to this script.
        .config("spark.jars.ivy", str(ivy))
        .config("spark.jars.ivySettings", str(settings))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.databricks.delta.snapshotPartitions", "2")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.sql.warehouse.dir", str(Path(work) / "spark-warehouse"))
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={Path(work) / 'derby'}")
        .config("spark.databricks.delta.retentionDurationCheck.enabled", "false")
    )
    spark = configure_spark_with_delta_pip(builder).getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def spark_rows(df):
    return [r.asDict() for r in df.collect()]


def delta_rs_rows(dt):
    return dt.to_pyarrow_table().to_pylist()


# ---------------------------------------------------------------------------------------- (a)
def check_weir_tables(spark, weir_dir):
    expected_files = sorted(Path(weir_dir).glob("*.expected.json"))
    check(len(expected_files) >= 5, f"(a) found {len(expected_files)} Weir-written tables")
    for exp_file in expected_files:
        name = exp_file.name[: -len(".expected.json")]
        path = str(Path(weir_dir) / name)
        exp = json.loads(exp_file.read_text())
        cols = exp["columns"]
        print(f"(a) table {name} (Weir version {exp['version']})", flush=True)

        dt = DeltaTable(path)
        check(dt.version() == exp["version"], f"{name}: deltalake sees version {dt.version()}")
        same_rows(cols, canonical_rows(cols, delta_rs_rows(dt)), exp["rows"], f"{name}: deltalake rows")
        hist = sorted(dt.history(), key=lambda h: h["version"])
        check([h["version"] for h in hist] == list(range(exp["version"] + 1)), f"{name}: deltalake history has every version")
        check([h.get("operation") for h in hist] == exp["operations"], f"{name}: deltalake history operations {[h.get('operation') for h in hist]}")

        df = spark.read.format("delta").load(path)
        spark_kinds = [kind_of(_spark_type_name(f.dataType)) for f in df.schema.fields]
        check(spark_kinds == [c["kind"] for c in cols], f"{name}: Spark schema kinds {spark_kinds}")
        same_rows(cols, canonical_rows(cols, spark_rows(df)), exp["rows"], f"{name}: Spark rows")
        shist = sorted(spark.sql(f"DESCRIBE HISTORY delta.`{path}`").collect(), key=lambda r: r["version"])
        check([r["version"] for r in shist] == list(range(exp["version"] + 1)), f"{name}: Spark DESCRIBE HISTORY has every version")
        check([r["operation"] for r in shist] == exp["operations"], f"{name}: Spark DESCRIBE HISTORY operations")
        stamps = [r["timestamp"] for r in shist]
        check(stamps == sorted(stamps), f"{name}: DESCRIBE HISTORY timestamps never go back")
        blind = [(r["operation"], r["isBlindAppend"]) for r in shist]
        check(all(b is (op == "WRITE") for op, b in blind if op in ("WRITE", "DELETE", "UPDATE", "MERGE")), f"{name}: isBlindAppend true for appends only: {blind}")
        detail = spark.sql(f"DESCRIBE DETAIL delta.`{path}`").collect()[0]
        check(detail["numFiles"] == len(dt.file_uris()), f"{name}: Spark and deltalake agree on {detail['numFiles']} live files")

        if "liveFiles" in exp:
            on_disk = [p for p in Path(path).rglob("*.parquet") if "_delta_log" not in p.parts]
            check(len(on_disk) == exp["liveFiles"] == detail["numFiles"], f"{name}: after VACUUM {len(on_disk)} data files on disk, {exp['liveFiles']} live")
        for v in exp.get("checkpoints", []):
            check(
                (Path(path) / "_delta_log" / f"{v:020d}.checkpoint.parquet").exists(),
                f"{name}: Weir checkpoint at version {v} present (and read above by both peers)",
            )
        # Spark reading the checkpoint alone: the version right at the checkpoint.
        for v in exp.get("checkpoints", []):
            n_spark = spark.read.format("delta").option("versionAsOf", v).load(path).count()
            n_rs = DeltaTable(path, version=v).to_pyarrow_table().num_rows
            check(n_spark == n_rs, f"{name}: at checkpoint version {v} Spark and deltalake both count {n_spark} rows")


def check_weir_managed(spark, managed_dir):
    """A managed table Weir created and changed through its SQL API, read by Spark at the
    storage_location the Unity Catalog tables API reports."""
    exp = json.loads((Path(managed_dir) / "managed.expected.json").read_text())
    cols, location = exp["columns"], exp["location"]
    print(f"(a) managed table at {location} (Weir version {exp['version']})", flush=True)
    check(location.startswith("file://"), f"managed: storage_location is a file URI: {location}")
    df = spark.read.format("delta").load(location)
    spark_kinds = [kind_of(_spark_type_name(f.dataType)) for f in df.schema.fields]
    check(spark_kinds == [c["kind"] for c in cols], f"managed: Spark schema kinds {spark_kinds}")
    same_rows(cols, canonical_rows(cols, spark_rows(df)), exp["rows"], "managed: Spark rows")
    versions = [r["version"] for r in spark.sql(f"DESCRIBE HISTORY delta.`{location}`").collect()]
    check(max(versions) == exp["version"], f"managed: Spark sees version {max(versions)}")


def _spark_type_name(dt):
    if isinstance(dt, T.DecimalType):
        return "decimal"
    return {
        "tinyint": "byte",
        "smallint": "short",
        "int": "integer",
        "bigint": "long",
    }.get(dt.simpleString(), dt.simpleString())


# ---------------------------------------------------------------------------------------- (b)
REGIONS = ["north", "south west", "a=b", "x/y", "50%", "ü:ñ", None]
PEER_COLUMNS = [
    {"name": "id", "kind": "int"},
    {"name": "region", "kind": "string"},
    {"name": "day", "kind": "date"},
    {"name": "amount", "kind": "decimal"},
    {"name": "ts", "kind": "timestamp"},
    {"name": "score", "kind": "double"},
    {"name": "flag", "kind": "boolean"},
    {"name": "note", "kind": "string"},
]
UTC = datetime.timezone.utc


def peer_rows(start, stop, tag):
    out = []
    for i in range(start, stop):
        out.append(
            {
                "id": i,
                "region": REGIONS[i % len(REGIONS)],
                "day": None if i % 11 == 0 else datetime.date(2024, 2, 27) + datetime.timedelta(days=i % 5),
                "amount": decimal.Decimal(i * 125 - 4000).scaleb(-2),
                "ts": None if i % 13 == 0 else datetime.datetime(1969, 12, 31, 23, 59, 58, 1, tzinfo=UTC) + datetime.timedelta(microseconds=i * 86400123457),
                "score": None if i % 9 == 0 else i / 8.0,
                "flag": None if i % 17 == 0 else i % 2 == 0,
                "note": f"{tag}-{i}",
            }
        )
    return out


ARROW_SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("region", pa.string()),
        ("day", pa.date32()),
        ("amount", pa.decimal128(12, 2)),
        ("ts", pa.timestamp("us", tz="UTC")),
        ("score", pa.float64()),
        ("flag", pa.bool_()),
        ("note", pa.string()),
    ]
)
SPARK_SCHEMA = T.StructType(
    [
        T.StructField("id", T.LongType()),
        T.StructField("region", T.StringType()),
        T.StructField("day", T.DateType()),
        T.StructField("amount", T.DecimalType(12, 2)),
        T.StructField("ts", T.TimestampType()),
        T.StructField("score", T.DoubleType()),
        T.StructField("flag", T.BooleanType()),
        T.StructField("note", T.StringType()),
    ]
)


class Recorder:
    """Keeps, per committed version, the writer's own read-back and a time just after the commit."""

    def __init__(self, name, columns, read_at):
        self.name, self.columns, self.read_at, self.versions = name, columns, read_at, []

    def committed(self, version):
        after = time.time()
        self.versions.append({"version": version, "after_ms": int(after * 1000), "rows": canonical_rows(self.columns, self.read_at(version))})
        # The next commit's file must be strictly newer than the time recorded here.
        time.sleep(0.03)

    def save(self, peer_dir, **extra):
        out = {"columns": self.columns, "versions": self.versions, **extra}
        (Path(peer_dir) / f"{self.name}.expected.json").write_text(json.dumps(out))
        print(f"(b) {self.name}: {len(self.versions)} versions recorded", flush=True)


def write_with_delta_rs(peer_dir):
    path = str(Path(peer_dir) / "delta_rs_events")
    rec = Recorder("delta_rs_events", PEER_COLUMNS, lambda v: delta_rs_rows(DeltaTable(path, version=v)))
    table = lambda a, b, tag: pa.Table.from_pylist(peer_rows(a, b, tag), schema=ARROW_SCHEMA)  # noqa: E731
    write_deltalake(path, table(0, 20, "rs"), partition_by=["region"], configuration={"delta.checkpointInterval": "5"})
    rec.committed(0)
    for i in range(1, 12):
        write_deltalake(path, table(i * 20, i * 20 + 20, "rs"), mode="append")
        rec.committed(i)
    dt = DeltaTable(path)
    dt.create_checkpoint()
    # MERGE: update matched ids, insert new ones.
    dt.merge(source=table(230, 260, "rs-merged"), predicate="t.id = s.id", source_alias="s", target_alias="t").when_matched_update_all().when_not_matched_insert_all().execute()
    rec.committed(DeltaTable(path).version())
    DeltaTable(path).delete("id % 6 = 1")
    rec.committed(DeltaTable(path).version())
    DeltaTable(path).update(updates={"note": "concat(note, '-upd')"}, predicate="id < 50")
    rec.committed(DeltaTable(path).version())
    checkpoints = sorted(int(p.name[:20]) for p in (Path(path) / "_delta_log").glob("*.checkpoint.parquet"))
    check(len(checkpoints) >= 1, f"(b) delta-rs wrote checkpoints at versions {checkpoints}")
    check(DeltaTable(path).protocol().min_reader_version == 1, "(b) delta-rs table is at reader version 1")
    rec.save(peer_dir, checkpoints=checkpoints)


def write_with_spark(spark, peer_dir):
    path = str(Path(peer_dir) / "spark_events")
    rec = Recorder("spark_events", PEER_COLUMNS, lambda v: spark_rows(spark.read.format("delta").option("versionAsOf", v).load(path)))
    frame = lambda a, b, tag: spark.createDataFrame([tuple(r[c["name"]] for c in PEER_COLUMNS) for r in peer_rows(a, b, tag)], SPARK_SCHEMA)  # noqa: E731
    frame(0, 20, "spark").write.format("delta").partitionBy("region", "day").save(path)
    rec.committed(0)
    for i in range(1, 13):
        frame(i * 20, i * 20 + 20, "spark").write.format("delta").mode("append").save(path)
        rec.committed(i)
    frame(250, 280, "spark-merged").createOrReplaceTempView("merge_source")
    spark.sql(
        f"""MERGE INTO delta.`{path}` t USING merge_source s ON t.id = s.id
            WHEN MATCHED AND s.id % 3 = 0 THEN DELETE
            WHEN MATCHED THEN UPDATE SET *
            WHEN NOT MATCHED THEN INSERT *
            WHEN NOT MATCHED BY SOURCE AND t.id < 10 THEN DELETE"""
    )
    rec.committed(13)
    spark.sql(f"DELETE FROM delta.`{path}` WHERE region = 'x/y' AND id > 100")
    rec.committed(14)
    spark.sql(f"UPDATE delta.`{path}` SET amount = amount + 1, note = concat(note, '-upd') WHERE day IS NULL")
    rec.committed(15)
    checkpoints = sorted(int(p.name[:20]) for p in (Path(path) / "_delta_log").glob("*.checkpoint.parquet"))
    check(checkpoints == [10], f"(b) Spark wrote checkpoints at versions {checkpoints}")
    rec.save(peer_dir, checkpoints=checkpoints)


# ---------------------------------------------------------------------------------------- (c)
def interleave(spark, peer_dir, appends):
    path = str(Path(peer_dir) / "interleaved")
    cols = [{"name": "writer", "kind": "string"}, {"name": "seq", "kind": "int"}]
    schema = T.StructType([T.StructField("writer", T.StringType()), T.StructField("seq", T.IntegerType())])
    spark.createDataFrame([("init", 0)], schema).write.format("delta").save(path)
    weir = subprocess.Popen(
        ["npx", "--no-install", "tsx", str(HERE / "weir-append.ts"), path, str(appends)],
        cwd=str(ROOT),
    )
    for i in range(appends):
        spark.createDataFrame([("spark", i)], schema).write.format("delta").mode("append").save(path)
    rc = weir.wait(timeout=600)
    check(rc == 0, f"(c) Weir appender exited with {rc}")
    want = [["init", "0"]] + [[w, str(i)] for w in ("spark", "weir") for i in range(appends)]
    dt = DeltaTable(path)
    check(dt.version() == 2 * appends, f"(c) {2 * appends} appends made versions 1..{dt.version()}")
    same_rows(cols, canonical_rows(cols, delta_rs_rows(dt)), want, "(c) deltalake rows after interleaved appends")
    same_rows(cols, canonical_rows(cols, spark_rows(spark.read.format("delta").load(path))), want, "(c) Spark rows after interleaved appends")
    ops = [r["operation"] for r in spark.sql(f"DESCRIBE HISTORY delta.`{path}`").collect()]
    check(len(ops) == 2 * appends + 1, f"(c) history has {len(ops)} entries")
    order = "".join("S" if r["operation"] == "WRITE" and r["engineInfo"] and "Apache-Spark" in r["engineInfo"] else "W" for r in sorted(spark.sql(f"DESCRIBE HISTORY delta.`{path}`").collect(), key=lambda r: r["version"])[1:])
    print(f"  commit order (S = Spark, W = Weir): {order}", flush=True)
    (Path(peer_dir) / "interleaved.expected.json").write_text(json.dumps({"columns": cols, "versions": [{"version": 2 * appends, "rows": want}]}))


def main():
    weir_dir, peer_dir, work = sys.argv[1:4]
    appends = int(os.environ.get("WEIR_DELTA_INTEROP_APPENDS", "15"))
    Path(peer_dir).mkdir(parents=True, exist_ok=True)
    started = time.time()
    spark = spark_session(work)
    print(f"Spark {spark.version} session up in {time.time() - started:.1f}s", flush=True)
    check_weir_tables(spark, weir_dir)
    check_weir_managed(spark, Path(work) / "managed")
    write_with_delta_rs(peer_dir)
    write_with_spark(spark, peer_dir)
    interleave(spark, peer_dir, appends)
    spark.stop()
    print(f"peers: {len(FAILURES)} failure(s) in {time.time() - started:.0f}s", flush=True)
    sys.exit(1 if FAILURES else 0)


if __name__ == "__main__":
    main()
