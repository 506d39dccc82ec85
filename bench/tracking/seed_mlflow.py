"""Bulk-seed a running MLflow server's backend store for bench.ts (--mlflow-seed db).

Seeding 10,000 runs and a 1,000,000-point metric through MLflow's REST API takes
several minutes per backend, so by default the bench writes MLflow's seed data
straight into its database with MLflow's own SQLAlchemy models (same tables and
columns the server's SqlAlchemyStore writes). Only seeding uses this path; every
measured operation goes through the REST API. The values are the same
deterministic functions bench.ts uses to seed Weir through its API.

  python seed_mlflow.py runs    --db URI --experiment-id ID --count 10000 [--metric-keys 3]
  python seed_mlflow.py history --db URI --run-id RUN --key loss --points 1000000

Prints one JSON line: {"rows": N, "seconds": S}.
"""

from __future__ import annotations

import argparse
import io
import json
import time
import uuid

import sqlalchemy as sa
from mlflow.store.tracking.dbmodels.models import (
    SqlLatestMetric,
    SqlMetric,
    SqlParam,
    SqlRun,
    SqlTag,
)

BASE_TS = 1_700_000_000_000
LRS = ["0.1", "0.01", "0.001"]
BATCH_SIZES = ["32", "64", "128", "256"]
MODELS = ["mlp", "cnn", "gbdt", "linear", "rf"]


# --- keep in sync with bench.ts (runMetrics / runParams / historyValue) and bench/ui/bench.ts (runMetrics) ---
def run_metrics(i: int, keys: int = 3) -> dict[str, float]:
    out = {
        "acc": ((i * 7919) % 10007) / 10007,
        "loss": ((i * 104729) % 10009) / 10009,
        "f1": ((i * 1299709) % 10037) / 10037,
    }
    # keys beyond the first three (the UI bench's 50 metric keys): m03, m04, ...
    for j in range(3, keys):
        out[f"m{j:02d}"] = ((i * 7919 + j * 104729) % 10007) / 10007
    return out


def run_params(i: int) -> dict[str, str]:
    return {"lr": LRS[i % 3], "batch_size": BATCH_SIZES[i % 4], "model": MODELS[i % 5]}


def history_value(step: int) -> float:
    return 1.0 / (1.0 + step / 1000.0)


def insert_chunks(conn: sa.Connection, table: sa.Table, rows: list[dict], chunk: int = 5000) -> None:
    for start in range(0, len(rows), chunk):
        conn.execute(table.insert(), rows[start : start + chunk])


def seed_runs(engine: sa.Engine, experiment_id: int, count: int, metric_keys: int = 3, runs_per_txn: int = 5000) -> int:
    # Written a few thousand runs per transaction so 100,000 runs x 50 metrics never sit in memory at once.
    total = 0
    for first in range(0, count, runs_per_txn):
        runs, tags, params, metrics = [], [], [], []
        for i in range(first, min(count, first + runs_per_txn)):
            run_uuid = uuid.uuid4().hex
            ts = BASE_TS + i
            runs.append(
                {
                    "run_uuid": run_uuid,
                    "name": f"r{i}",
                    "source_type": "LOCAL",
                    "source_name": "",
                    "entry_point_name": "",
                    "user_id": "bench",
                    "status": "FINISHED",
                    "start_time": ts,
                    "end_time": ts + 1000,
                    "deleted_time": None,
                    "source_version": "",
                    "lifecycle_stage": "active",
                    "artifact_uri": f"mlflow-artifacts:/{experiment_id}/{run_uuid}/artifacts",
                    "experiment_id": experiment_id,
                }
            )
            tags.append({"key": "mlflow.runName", "value": f"r{i}", "run_uuid": run_uuid})
            tags.append({"key": "mlflow.user", "value": "bench", "run_uuid": run_uuid})
            for k, v in run_params(i).items():
                params.append({"key": k, "value": v, "run_uuid": run_uuid})
            for k, v in run_metrics(i, metric_keys).items():
                metrics.append(
                    {"key": k, "value": v, "timestamp": ts, "step": 0, "is_nan": False, "run_uuid": run_uuid}
                )
        with engine.begin() as conn:
            insert_chunks(conn, SqlRun.__table__, runs)
            insert_chunks(conn, SqlTag.__table__, tags)
            insert_chunks(conn, SqlParam.__table__, params)
            insert_chunks(conn, SqlMetric.__table__, metrics)
            insert_chunks(conn, SqlLatestMetric.__table__, metrics)
        total += len(runs) + len(tags) + len(params) + 2 * len(metrics)
    return total


def seed_history(engine: sa.Engine, run_id: str, key: str, points: int) -> int:
    last = points - 1
    latest = {
        "key": key,
        "value": history_value(last),
        "timestamp": BASE_TS + last,
        "step": last,
        "is_nan": False,
        "run_uuid": run_id,
    }
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # COPY is the fast path on PostgreSQL
            buf = io.StringIO()
            for s in range(points):
                buf.write(f"{key}\t{history_value(s)!r}\t{BASE_TS + s}\t{s}\tf\t{run_id}\n")
            buf.seek(0)
            raw = conn.connection.dbapi_connection
            with raw.cursor() as cur:
                cur.copy_expert(
                    "COPY metrics (key, value, timestamp, step, is_nan, run_uuid) FROM STDIN", buf
                )
        else:
            table = SqlMetric.__table__
            chunk = 20000
            for start in range(0, points, chunk):
                rows = [
                    {
                        "key": key,
                        "value": history_value(s),
                        "timestamp": BASE_TS + s,
                        "step": s,
                        "is_nan": False,
                        "run_uuid": run_id,
                    }
                    for s in range(start, min(points, start + chunk))
                ]
                conn.execute(table.insert(), rows)
        conn.execute(
            SqlLatestMetric.__table__.delete().where(
                SqlLatestMetric.__table__.c.run_uuid == run_id,
                SqlLatestMetric.__table__.c.key == key,
            )
        )
        conn.execute(SqlLatestMetric.__table__.insert(), [latest])
    return points + 1


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("runs")
    r.add_argument("--db", required=True)
    r.add_argument("--experiment-id", type=int, required=True)
    r.add_argument("--count", type=int, required=True)
    r.add_argument("--metric-keys", type=int, default=3)
    h = sub.add_parser("history")
    h.add_argument("--db", required=True)
    h.add_argument("--run-id", required=True)
    h.add_argument("--key", default="loss")
    h.add_argument("--points", type=int, required=True)
    args = ap.parse_args()

    engine = sa.create_engine(args.db)
    t0 = time.perf_counter()
    if args.cmd == "runs":
        rows = seed_runs(engine, args.experiment_id, args.count, args.metric_keys)
    else:
        rows = seed_history(engine, args.run_id, args.key, args.points)
    engine.dispose()
    print(json.dumps({"rows": rows, "seconds": round(time.perf_counter() - t0, 3)}))


if __name__ == "__main__":
    main()
