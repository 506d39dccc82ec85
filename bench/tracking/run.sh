#!/usr/bin/env bash
# Tracking benchmark: stock MLflow 3.x vs Weir, SQLite then PostgreSQL, one run.
#
#   bash bench/tracking/run.sh [bench.ts options]     (= npm run bench)
#     --backends sqlite,postgres   --servers mlflow,weir   --scale full|quick
#     --mlflow-seed db|api         --out DIR (default bench/tracking/work)
#
# Creates bench/tracking/.venv (pinned MLflow from PyPI), starts a throwaway
# PostgreSQL with scripts/pg-start.sh when the postgres backend is selected (and
# stops it again if it started it), then runs bench.ts with tsx.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/bench/tracking"
VENV="$HERE/.venv"
REQ="$HERE/requirements.txt"
cd "$ROOT"

log() { printf '[bench] %s\n' "$*"; }

# ---- MLflow virtualenv -------------------------------------------------------
py="${PYTHON:-python3}"
want="$(sha256sum <"$REQ" | cut -d' ' -f1) $("$py" -c 'import sys; print(sys.version.split()[0])')"
if [ ! -x "$VENV/bin/mlflow" ] || [ "$(cat "$VENV/.weir-requirements" 2>/dev/null)" != "$want" ]; then
  log "creating $VENV and installing $(grep -cv '^\s*\(#\|$\)' "$REQ") pinned packages from PyPI"
  rm -rf "$VENV"
  "$py" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --disable-pip-version-check -q --upgrade pip >/dev/null
  if ! "$VENV/bin/python" -m pip install --disable-pip-version-check -q -r "$REQ"; then
    rm -rf "$VENV"
    echo "ERROR: pip install -r $REQ failed" >&2
    exit 1
  fi
  echo "$want" >"$VENV/.weir-requirements"
fi
log "$("$VENV/bin/mlflow" --version)"

# ---- PostgreSQL (only if the postgres backend is selected) -------------------
backends="sqlite,postgres"
prev=""
for a in "$@"; do
  [ "$prev" = "--backends" ] && backends="$a"
  prev="$a"
done
PG_STARTED=""
cleanup() {
  if [ -n "$PG_STARTED" ]; then bash "$ROOT/scripts/pg-stop.sh" "$WEIR_PG_DIR" || true; fi
}
trap cleanup EXIT
if [[ ",$backends," == *",postgres,"* ]]; then
  if [ -z "${WEIR_PG_DIR:-}" ]; then
    WEIR_PG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/weir-bench-pg.XXXXXX")"
    export WEIR_PG_DIR
    PG_STARTED=1
  fi
  eval "$(bash "$ROOT/scripts/pg-start.sh" postgres)"
  export WEIR_PG_BIN
  export WEIR_BENCH_PG_URL="postgres://postgres@127.0.0.1:$WEIR_PG_PORT"
  log "PostgreSQL at $WEIR_BENCH_PG_URL ($WEIR_PG_DIR)"
fi

export MLFLOW_BENCH_BIN="$VENV/bin/mlflow"
export MLFLOW_BENCH_PYTHON="$VENV/bin/python"
export MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=true
npx --no-install tsx "$HERE/bench.ts" "$@"
