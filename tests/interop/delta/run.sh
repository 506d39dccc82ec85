#!/usr/bin/env bash
# Weir's Delta Lake interop suite: delta-rs (`deltalake`) and Spark (`pyspark` + `delta-spark`) read
# tables Weir wrote (Spark also a managed table by the storage_location the catalog reports), Weir
# reads tables they wrote (latest, by version, by timestamp), and a Spark and a Weir writer append to
# one table at the same time. Spark also reads through Weir's grants: as a granted user it makes the
# Unity Catalog connector's calls (GET table, temporary-table-credentials) and reads the vended
# location; an ungranted table is refused.
#
#   bash tests/interop/delta/run.sh
#
# Needs python3 (with venv), Java 17 and, on the first run, PyPI and Maven Central. The Python peers are
# pinned in requirements.txt and installed into tests/interop/delta/.venv (re-created when the pins
# change); Spark resolves the delta-spark jars from Maven Central only (ivysettings.xml) and caches them
# in tests/interop/delta/.ivy2, so later runs work offline. WEIR_DELTA_INTEROP_KEEP=1 keeps the tables.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
VENV="$HERE/.venv"
REQ="$HERE/requirements.txt"
cd "$ROOT"

log() { printf '[interop:delta] %s\n' "$*"; }
die() { printf '[interop:delta] ERROR: %s\n' "$*" >&2; exit 1; }

command -v java >/dev/null || die "java not found; Spark needs Java 17 (apt-get install openjdk-17-jre-headless)"
java -version 2>&1 | grep -q 'version "17' || log "warning: $(java -version 2>&1 | head -1); Spark 3.5 is tested here with Java 17"

ensure_venv() {
  local py="${PYTHON:-python3}" want stamp="$VENV/.weir-requirements"
  command -v "$py" >/dev/null || die "$py not found"
  want="$(sha256sum "$REQ" | cut -d' ' -f1) $("$py" -c 'import sys; print(sys.version.split()[0])')"
  if [ -x "$VENV/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    log "reusing $VENV"
    return 0
  fi
  log "creating $VENV and installing the pinned peers from PyPI (a few minutes the first time)"
  rm -rf "$VENV"
  "$py" -m venv "$VENV" || die "python3 -m venv failed (apt-get install python3-venv)"
  "$VENV/bin/python" -m pip install --disable-pip-version-check -q -r "$REQ" || { rm -rf "$VENV"; die "pip install -r $REQ failed; the Delta interop suite cannot run"; }
  "$VENV/bin/python" - "$REQ" <<'PY' || { rm -rf "$VENV"; die "installed versions differ from the pins"; }
import sys
from importlib.metadata import version
bad = []
for line in open(sys.argv[1]):
    line = line.split("#", 1)[0].strip()
    if line:
        name, pin = line.split("==")
        if version(name) != pin:
            bad.append(f"{name}: want {pin}, got {version(name)}")
if bad:
    sys.exit("; ".join(bad))
PY
  echo "$want" >"$stamp"
}

ensure_venv
WORK="$(mktemp -d "${TMPDIR:-/tmp}/weir-delta-interop.XXXXXX")"
cleanup() { if [ "${WEIR_DELTA_INTEROP_KEEP:-}" = 1 ]; then log "kept $WORK"; else rm -rf "$WORK"; fi; }
trap cleanup EXIT

start=$SECONDS
status=0
log "(a) Weir writes tables; DuckDB computes their expected rows"
npx --no-install tsx "$HERE/weir-write.ts" "$WORK/weir" || die "weir-write.ts failed"

log "(a) a Weir server creates and changes a managed table through its SQL API"
npx --no-install tsx "$HERE/weir-managed.ts" "$WORK/managed" || die "weir-managed.ts failed"

log "(a) peers read Weir's tables (and the managed one by its storage_location), (b) peers write tables, (c) Spark and Weir append together"
env TZ=UTC PYSPARK_PYTHON="$VENV/bin/python" PYSPARK_DRIVER_PYTHON="$VENV/bin/python" SPARK_LOCAL_IP=127.0.0.1 \
  PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$HERE" HOME="$WORK/home" \
  "$VENV/bin/python" "$HERE/peers.py" "$WORK/weir" "$WORK/peers" "$WORK" </dev/null || status=1

if [ -d "$WORK/peers" ]; then
  log "(b) Weir reads the peers' tables at every version and by timestamp"
  npx --no-install tsx "$HERE/weir-read.ts" "$WORK/peers" || status=1
else
  status=1
fi

log "(d) Spark reads through Weir's grants: a granted table at the location its temporary credentials name, an ungranted one refused"
env TZ=UTC PYSPARK_PYTHON="$VENV/bin/python" PYSPARK_DRIVER_PYTHON="$VENV/bin/python" SPARK_LOCAL_IP=127.0.0.1 \
  PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$HERE" HOME="$WORK/home" \
  npx --no-install tsx "$HERE/weir-governed.ts" "$WORK/governed" "$VENV/bin/python" </dev/null || status=1

log "done in $((SECONDS - start))s: $([ "$status" = 0 ] && echo PASSED || echo FAILED)"
exit "$status"
