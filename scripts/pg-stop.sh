#!/usr/bin/env bash
# Stop the throwaway PostgreSQL started by scripts/pg-start.sh and delete its data.
#   bash scripts/pg-stop.sh [STATE_DIR]    (default: $WEIR_PG_DIR, else /tmp/weir-pg-$UID)
# Safe to call when nothing is running.
set -euo pipefail

PG_DIR="${1:-${WEIR_PG_DIR:-${TMPDIR:-/tmp}/weir-pg-$(id -u)}}"
DATA="$PG_DIR/data"

if [ ! -d "$PG_DIR" ]; then
  exit 0
fi
# Only delete directories that look like ours.
if [ ! -f "$PG_DIR/port" ] && [ ! -f "$PG_DIR/initdb.log" ]; then
  echo "[pg-stop] $PG_DIR does not look like a pg-start.sh state directory; leaving it" >&2
  exit 1
fi

PG_BIN="${WEIR_PG_BIN:-}"
if [ -z "$PG_BIN" ] || [ ! -x "$PG_BIN/pg_ctl" ]; then
  for d in /usr/lib/postgresql/15/bin $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/pg_ctl" ]; then PG_BIN="$d"; break; fi
  done
fi

if [ -f "$DATA/postmaster.pid" ] && [ -n "$PG_BIN" ]; then
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$DATA" stop -m fast -w -t 30 >/dev/null 2>&1 \
      || runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$DATA" stop -m immediate >/dev/null 2>&1 || true
  else
    "$PG_BIN/pg_ctl" -D "$DATA" stop -m fast -w -t 30 >/dev/null 2>&1 \
      || "$PG_BIN/pg_ctl" -D "$DATA" stop -m immediate >/dev/null 2>&1 || true
  fi
fi
rm -rf "$PG_DIR"
echo "[pg-stop] stopped and removed $PG_DIR" >&2
