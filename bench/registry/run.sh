#!/usr/bin/env bash
# Registry benchmark: stock MLflow 3.x vs Weir, both on SQLite, one run.
#
#   bash bench/registry/run.sh [bench.ts options]   (--servers mlflow,weir  --scale full|quick  --out DIR)
#
# Creates bench/registry/.venv (pinned MLflow from PyPI) and runs bench.ts with tsx.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/bench/registry"
VENV="$HERE/.venv"
REQ="$HERE/requirements.txt"
cd "$ROOT"

py="${PYTHON:-python3}"
want="$(sha256sum <"$REQ" | cut -d' ' -f1) $("$py" -c 'import sys; print(sys.version.split()[0])')"
if [ ! -x "$VENV/bin/mlflow" ] || [ "$(cat "$VENV/.weir-requirements" 2>/dev/null)" != "$want" ]; then
  echo "[bench] creating $VENV from $REQ"
  rm -rf "$VENV"
  "$py" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --disable-pip-version-check -q -r "$REQ"
  echo "$want" >"$VENV/.weir-requirements"
fi
echo "[bench] $("$VENV/bin/mlflow" --version)"
export MLFLOW_BENCH_BIN="$VENV/bin/mlflow"
npx --no-install tsx "$HERE/bench.ts" "$@"
