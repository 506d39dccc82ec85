#!/usr/bin/env bash
# Weir interop suite: real MLflow / Databricks clients (Python and Node) against a
# Weir server started here on loopback.
#
#   bash tests/interop/run.sh                 # = npm run test:interop
#   bash tests/interop/run.sh --url http://127.0.0.1:5000 [--token TOK] [--target mlflow]
#        run the suites against an already running server instead of starting Weir
#        (e.g. a stock `mlflow server`, to check the tests themselves)
#
# Backends: Weir is started with its default (SQLite) metadata store in a temp
# data dir; when WEIR_TEST_POSTGRES_URL is set (CI sets it, see scripts/pg-start.sh)
# the suites run a second time against a Weir server using a fresh PostgreSQL
# database (--metadata-url). WEIR_INTEROP_BACKENDS="sqlite" (or "postgres")
# restricts that.
#
# Python clients are pinned in tests/interop/requirements.txt and installed from
# PyPI into tests/interop/.venv (re-created when the pins change).
# Exit status is non-zero if any suite fails, including "no tests collected".
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/tests/interop"
VENV="$HERE/.venv"
REQ="$HERE/requirements.txt"
cd "$ROOT"

EXT_URL=""
EXT_TOKEN="${WEIR_TOKEN:-}"
TARGET="weir"
while [ $# -gt 0 ]; do
  case "$1" in
    --url) EXT_URL="${2:?}"; shift 2 ;;
    --token) EXT_TOKEN="${2:?}"; shift 2 ;;
    --target) TARGET="${2:?}"; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

log() { printf '[interop] %s\n' "$*"; }
hr() { printf '\n---------------- %s ----------------\n' "$*"; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/weir-interop.XXXXXX")"
SERVER_PID=""
PG_DB=""
PSQL=""

stop_server() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$SERVER_PID" 2>/dev/null && kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}
drop_pg_db() {
  if [ -n "$PG_DB" ] && [ -n "$PSQL" ]; then
    "$PSQL" -X -q "$WEIR_TEST_POSTGRES_URL" -c "DROP DATABASE IF EXISTS \"$PG_DB\" WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  PG_DB=""
}
cleanup() {
  stop_server
  drop_pg_db
  if [ "${WEIR_INTEROP_KEEP:-}" = 1 ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------ python venv ----
ensure_venv() {
  local py="${PYTHON:-python3}" stamp want
  command -v "$py" >/dev/null || { echo "ERROR: $py not found (apt-get install python3 python3-venv)" >&2; return 1; }
  want="$(cat "$REQ" | sha256sum | cut -d' ' -f1) $("$py" -c 'import sys; print(sys.version.split()[0])')"
  stamp="$VENV/.weir-requirements"
  if [ -x "$VENV/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    log "reusing $VENV"
    return 0
  fi
  log "creating $VENV ($("$py" --version)) and installing $(grep -cv '^\s*\(#\|$\)' "$REQ") pinned packages from PyPI"
  rm -rf "$VENV"
  "$py" -m venv "$VENV" || { echo "ERROR: python3 -m venv failed (apt-get install python3-venv)" >&2; return 1; }
  "$VENV/bin/python" -m pip install --disable-pip-version-check -q --upgrade pip >/dev/null \
    || { echo "ERROR: upgrading pip in $VENV failed" >&2; return 1; }
  if ! "$VENV/bin/python" -m pip install --disable-pip-version-check -q -r "$REQ"; then
    echo "ERROR: pip install -r $REQ failed; the interop suite cannot run" >&2
    rm -rf "$VENV"
    return 1
  fi
  "$VENV/bin/python" - "$REQ" <<'EOF' || { rm -rf "$VENV"; return 1; }
import sys
from importlib.metadata import version
bad = []
for line in open(sys.argv[1]):
    line = line.split("#", 1)[0].strip()
    if not line:
        continue
    name, pin = line.split("==")
    got = version(name)
    if got != pin:
        bad.append(f"{name}: want {pin}, got {got}")
if bad:
    sys.exit("ERROR: installed versions differ from the pins: " + "; ".join(bad))
EOF
  echo "$want" >"$stamp"
}

# ----------------------------------------------------------------- server ----
free_port() {
  node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

start_weir() { # start_weir LABEL [extra args...]
  local label="$1"; shift
  local port data
  port="$(free_port)"
  data="$WORK/data-$label"
  mkdir -p "$data"
  TOKEN="weir-interop-$(node -e 'console.log(require("crypto").randomBytes(24).toString("hex"))')"
  SERVER_LOG="$WORK/server-$label.log"
  log "starting Weir ($label) on 127.0.0.1:$port, data dir $data"
  # --python: model versions without an onnx flavor are served by Python workers from the venv (test_serving.py);
  # inference-table batches are flushed every second so the serving tests read their rows back quickly.
  WEIR_ADMIN_TOKEN="$TOKEN" WEIR_INFERENCE_FLUSH_SECONDS=1 node "$ROOT/apps/cli/bin/weir.js" server \
    --port "$port" --host 127.0.0.1 --data-dir "$data" --python "$VENV/bin/python" "$@" >"$SERVER_LOG" 2>&1 </dev/null &
  SERVER_PID=$!
  URL="http://127.0.0.1:$port"
  local i
  for i in $(seq 1 300); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "ERROR: Weir server exited during startup; its log:" >&2
      tail -n 60 "$SERVER_LOG" >&2 || true
      SERVER_PID=""
      return 1
    fi
    if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$URL/health" 2>/dev/null || true)" = 200 ]; then
      log "Weir ($label) is ready"
      return 0
    fi
    sleep 0.2
  done
  echo "ERROR: Weir server did not answer GET /health with 200 within 60 s; its log:" >&2
  tail -n 60 "$SERVER_LOG" >&2 || true
  return 1
}

# ----------------------------------------------------------------- suites ----
SUITES_PASSED=0
SUITES_FAILED=0
FAILED_NAMES=()
record() { # record NAME RC
  if [ "$2" = 0 ]; then
    SUITES_PASSED=$((SUITES_PASSED + 1))
  else
    SUITES_FAILED=$((SUITES_FAILED + 1))
    FAILED_NAMES+=("$1 (exit $2)")
  fi
}

run_suites() { # run_suites LABEL URL TOKEN TARGET
  local label="$1" url="$2" token="$3" target="$4" rc failed_before="$SUITES_FAILED"
  local home="$WORK/home-$label"
  mkdir -p "$home"

  hr "pytest tests/interop/python  [$label]"
  rc=0
  env HOME="$home" XDG_CACHE_HOME="$home/.cache" \
    MLFLOW_TRACKING_URI="$url" MLFLOW_TRACKING_TOKEN="$token" \
    WEIR_INTEROP_TARGET="$target" WEIR_INTEROP_STRICT="$([ -n "$token" ] && echo 1 || echo 0)" \
    DATABRICKS_CONFIG_FILE="$WORK/no-databrickscfg" \
    MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=true PYTHONDONTWRITEBYTECODE=1 \
    "$VENV/bin/python" -m pytest -p no:cacheprovider --rootdir "$HERE/python" \
    --basetemp "$WORK/pytest-$label" -ra -q "$HERE/python" </dev/null || rc=$?
  if [ "$rc" = 5 ]; then
    echo "ERROR: pytest collected no tests (exit 5)" >&2
  fi
  record "pytest [$label]" "$rc"

  hr "vitest tests/interop/node  [$label]"
  rc=0
  env WEIR_URL="$url" WEIR_TOKEN="$token" DATABRICKS_CONFIG_FILE="$WORK/no-databrickscfg" \
    npx --no-install vitest run --config "$HERE/vitest.interop.config.ts" </dev/null || rc=$?
  record "vitest [$label]" "$rc"

  if [ "$SUITES_FAILED" -gt "$failed_before" ] && [ -n "${SERVER_LOG:-}" ] && [ -f "$SERVER_LOG" ]; then
    hr "last 80 lines of the server log [$label]"
    tail -n 80 "$SERVER_LOG" || true
  fi
}

ensure_venv
"$VENV/bin/python" -c 'import mlflow, databricks.sdk; print("[interop] mlflow", mlflow.__version__, "| databricks-sdk", databricks.sdk.version.__version__)'

if [ -n "$EXT_URL" ]; then
  run_suites "external" "${EXT_URL%/}" "$EXT_TOKEN" "$TARGET"
else
  [ -f "$ROOT/apps/cli/bin/weir.js" ] || { echo "ERROR: apps/cli/bin/weir.js not found" >&2; exit 1; }
  backends="${WEIR_INTEROP_BACKENDS:-sqlite${WEIR_TEST_POSTGRES_URL:+ postgres}}"
  for backend in $backends; do
    case "$backend" in
      sqlite)
        if start_weir sqlite; then
          run_suites sqlite "$URL" "$TOKEN" weir
        else
          record "start Weir [sqlite]" 1
        fi
        stop_server
        ;;
      postgres)
        : "${WEIR_TEST_POSTGRES_URL:?WEIR_TEST_POSTGRES_URL must be set for the postgres backend (scripts/pg-start.sh)}"
        PSQL="${WEIR_PG_BIN:+$WEIR_PG_BIN/}psql"
        command -v "$PSQL" >/dev/null || PSQL=psql
        PG_DB="weir_interop_$$_$RANDOM"
        if "$PSQL" -X -q "$WEIR_TEST_POSTGRES_URL" -c "CREATE DATABASE \"$PG_DB\"" >/dev/null \
          && start_weir postgres --metadata-url "${WEIR_TEST_POSTGRES_URL%/*}/$PG_DB"; then
          run_suites postgres "$URL" "$TOKEN" weir
        else
          record "start Weir [postgres]" 1
        fi
        stop_server
        drop_pg_db
        ;;
      *) echo "unknown backend in WEIR_INTEROP_BACKENDS: $backend" >&2; record "backend $backend" 1 ;;
    esac
  done
fi

hr "interop summary"
for n in "${FAILED_NAMES[@]+"${FAILED_NAMES[@]}"}"; do echo "  FAILED: $n"; done
echo "interop: $SUITES_PASSED passed, $SUITES_FAILED failed"
[ "$SUITES_FAILED" -eq 0 ] && [ "$SUITES_PASSED" -gt 0 ]
