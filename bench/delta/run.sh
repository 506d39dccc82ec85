#!/usr/bin/env bash
# bench/delta: Weir's Delta engine beside DuckDB and delta-rs on flights-3m.parquet (vega-datasets).
#
#   bash bench/delta/run.sh
#
# delta-rs (`deltalake`, pinned in requirements.txt) is installed from PyPI into bench/delta/.venv on
# the first run. Scratch tables go to bench/delta/work (removed at the start of each run);
# WEIR_BENCH_REPEATS (default 5) sets how many runs each median is taken over.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="$HERE/.venv"
REQ="$HERE/requirements.txt"
cd "$ROOT"

want="$(sha256sum "$REQ" | cut -d' ' -f1)"
if ! [ -x "$VENV/bin/python" ] || [ "$(cat "$VENV/.weir-requirements" 2>/dev/null)" != "$want" ]; then
  echo "[bench:delta] installing the pinned delta-rs into $VENV"
  rm -rf "$VENV"
  python3 -m venv "$VENV" || { echo "[bench:delta] ERROR: python3 -m venv failed" >&2; exit 1; }
  "$VENV/bin/python" -m pip install --disable-pip-version-check -q -r "$REQ" || { rm -rf "$VENV"; echo "[bench:delta] ERROR: pip install failed" >&2; exit 1; }
  echo "$want" >"$VENV/.weir-requirements"
fi
npx --no-install tsx "$HERE/bench.ts" "$HERE/work" "$VENV/bin/python"
