#!/usr/bin/env bash
# Start (or reuse) a throwaway PostgreSQL server for tests and benchmarks.
#
#   eval "$(bash scripts/pg-start.sh)"            # creates database weir_test
#   eval "$(bash scripts/pg-start.sh weir_test mlflow_bench weir_bench)"
#   ...
#   bash scripts/pg-stop.sh                       # stops it and deletes its data
#
# The server is Debian's PostgreSQL (apt package `postgresql`), run as the
# `postgres` OS user when this script runs as root, listening only on
# 127.0.0.1 on a free port, trust authentication, fsync off (test data only).
#
# State lives in $WEIR_PG_DIR (default: /tmp/weir-pg-$UID). If a server is
# already running there, it is reused (idempotent); a stale directory is wiped
# and initialised again. The requested databases are created if missing.
#
# Stdout carries only shell `export` lines (for eval); progress goes to stderr:
#   export WEIR_PG_DIR=...  WEIR_PG_PORT=...  WEIR_PG_BIN=...
#   export WEIR_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:PORT/<first db>
set -euo pipefail

log() { printf '[pg-start] %s\n' "$*" >&2; }
die() { printf '[pg-start] ERROR: %s\n' "$*" >&2; exit 1; }

dbs=("$@")
[ "${#dbs[@]}" -gt 0 ] || dbs=(weir_test)
for db in "${dbs[@]}"; do
  [[ "$db" =~ ^[a-z_][a-z0-9_]*$ ]] || die "invalid database name: $db"
done

# ---- locate the server binaries ------------------------------------------
find_bin() {
  if [ -n "${WEIR_PG_BIN:-}" ] && [ -x "$WEIR_PG_BIN/pg_ctl" ]; then
    echo "$WEIR_PG_BIN"; return
  fi
  local d
  for d in /usr/lib/postgresql/15/bin $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/pg_ctl" ] && [ -x "$d/initdb" ]; then echo "$d"; return; fi
  done
  if command -v pg_ctl >/dev/null 2>&1; then dirname "$(readlink -f "$(command -v pg_ctl)")"; return; fi
  return 1
}
PG_BIN="$(find_bin)" || die "PostgreSQL server binaries not found; install them with: apt-get install -y postgresql"

PG_DIR="${WEIR_PG_DIR:-${TMPDIR:-/tmp}/weir-pg-$(id -u)}"
DATA="$PG_DIR/data"
PORT_FILE="$PG_DIR/port"
LOGFILE="$PG_DIR/postgres.log"

# Run a PostgreSQL program as the OS user that owns the cluster.
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || die "OS user 'postgres' is missing (it comes with apt-get install postgresql)"
  as_pg() { runuser -u postgres -- "$@"; }
  PG_OWNER=postgres
else
  as_pg() { "$@"; }
  PG_OWNER="$(id -un)"
fi

psql_q() { # psql_q PORT SQL -> first column of the result, quiet
  "$PG_BIN/psql" -X -q -At -h 127.0.0.1 -p "$1" -U postgres -d postgres -v ON_ERROR_STOP=1 -c "$2"
}

running() {
  [ -f "$PORT_FILE" ] && [ -f "$DATA/postmaster.pid" ] || return 1
  as_pg "$PG_BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1 || return 1
  "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$(cat "$PORT_FILE")" -t 5
}

free_port() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
  else
    node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
  fi
}

if running; then
  PORT="$(cat "$PORT_FILE")"
  log "reusing PostgreSQL in $PG_DIR on 127.0.0.1:$PORT"
else
  if [ -d "$PG_DIR" ] && [ -n "$(ls -A "$PG_DIR")" ] && [ ! -f "$PG_DIR/initdb.log" ]; then
    die "$PG_DIR exists, is not empty and was not made by this script; refusing to touch it"
  fi
  if [ -d "$DATA" ]; then
    log "stale state in $PG_DIR; re-initialising"
    as_pg "$PG_BIN/pg_ctl" -D "$DATA" stop -m immediate >/dev/null 2>&1 || true
  fi
  rm -rf "$PG_DIR"
  mkdir -p "$PG_DIR"
  chmod 0755 "$PG_DIR"
  [ "$PG_OWNER" = postgres ] && chown postgres: "$PG_DIR"
  log "initdb in $DATA ($PG_BIN)"
  as_pg "$PG_BIN/initdb" -D "$DATA" -U postgres --auth=trust --no-locale -E UTF8 --no-sync >"$PG_DIR/initdb.log" 2>&1 \
    || { cat "$PG_DIR/initdb.log" >&2; die "initdb failed"; }
  cat >>"$DATA/postgresql.conf" <<'EOF'

# --- weir throwaway test server ---
listen_addresses = '127.0.0.1'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
shared_buffers = 256MB
log_min_messages = warning
EOF
  echo "unix_socket_directories = '$PG_DIR'" >>"$DATA/postgresql.conf"
  # trust on loopback only
  cat >"$DATA/pg_hba.conf" <<'EOF'
local all all trust
host  all all 127.0.0.1/32 trust
EOF
  started=
  for _ in 1 2 3 4 5; do
    PORT="$(free_port)"
    if as_pg "$PG_BIN/pg_ctl" -D "$DATA" -l "$LOGFILE" -o "-p $PORT" -w -t 60 start >/dev/null 2>&1; then
      started=1; break
    fi
    log "start on port $PORT failed; retrying on another port"
  done
  [ -n "$started" ] || { tail -n 30 "$LOGFILE" >&2 || true; die "pg_ctl start failed"; }
  echo "$PORT" >"$PORT_FILE"
  "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -t 30 || die "server did not become ready"
  log "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') running in $PG_DIR on 127.0.0.1:$PORT"
fi

for db in "${dbs[@]}"; do
  if [ "$(psql_q "$PORT" "SELECT 1 FROM pg_database WHERE datname = '$db'")" != 1 ]; then
    psql_q "$PORT" "CREATE DATABASE \"$db\"" >/dev/null
    log "created database $db"
  fi
done

cat <<EOF
export WEIR_PG_DIR='$PG_DIR'
export WEIR_PG_PORT='$PORT'
export WEIR_PG_BIN='$PG_BIN'
export WEIR_TEST_POSTGRES_URL='postgres://postgres@127.0.0.1:$PORT/${dbs[0]}'
EOF
