#!/usr/bin/env bash
# Web UI benchmark: stock MLflow's UI vs Weir's UI, side by side in one run, in Debian's Chromium.
#
#   bash bench/ui/run.sh [--runs 100000] [--points 100000] [--repeat 3] [--out DIR] [--data DIR] [--only weir|mlflow]
#
# --data DIR keeps the seeded stores there and reuses them on the next run with the same sizes (see README.md).
#
# Uses the pinned MLflow of bench/tracking (bench/tracking/.venv, created by bash bench/tracking/run.sh, or
# MLFLOW_BENCH_BIN / MLFLOW_BENCH_PYTHON), builds the web UI, then runs bench.ts with tsx. Prints a table of
# median load times and the MLflow / Weir ratios; results also go to bench/ui/work/ (git-ignored).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

export MLFLOW_BENCH_BIN="${MLFLOW_BENCH_BIN:-$ROOT/bench/tracking/.venv/bin/mlflow}"
export MLFLOW_BENCH_PYTHON="${MLFLOW_BENCH_PYTHON:-$ROOT/bench/tracking/.venv/bin/python}"
if [ ! -x "$MLFLOW_BENCH_BIN" ]; then
  echo "MLflow not found at $MLFLOW_BENCH_BIN: run 'bash bench/tracking/run.sh --scale quick --backends sqlite' once to create its venv," >&2
  echo "or point MLFLOW_BENCH_BIN and MLFLOW_BENCH_PYTHON at an MLflow 3.x install." >&2
  exit 1
fi
echo "[bench-ui] $("$MLFLOW_BENCH_BIN" --version)"
npm run build -w @weir/web >/dev/null
export MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=true
npx --no-install tsx "$ROOT/bench/ui/bench.ts" "$@"
