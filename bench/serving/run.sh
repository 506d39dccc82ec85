#!/usr/bin/env bash
# Serving benchmark, one run: Weir (ONNX in process, inference-table capture on) vs `mlflow models serve` of the
# same 100-tree random forest (sklearn flavor and onnx flavor) vs the floor (bare Fastify + bare onnxruntime).
#
#   bash bench/serving/run.sh [--seconds 8] [--rounds 4] [--warmup 2] [--concurrency 1,16] [--client wrk|node]
#     (per target and concurrency: --seconds of timed load, split into --rounds turns taken in rotation; the load comes
#     from wrk, installed from Debian's packages when missing, or from Node's http client with --client node)
#
# Python: the interop venv (tests/interop/.venv: mlflow, scikit-learn, skl2onnx, onnxruntime at the pins of
# tests/interop/requirements.txt). If it is missing it is created here from those pins (from PyPI), or set
# WEIR_BENCH_PYTHON to a Python that has them. Logs, the model and results.json go to bench/serving/work/.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/bench/serving"
WORK="$HERE/work"
cd "$ROOT"
log() { printf '[bench] %s\n' "$*"; }

PY="${WEIR_BENCH_PYTHON:-$ROOT/tests/interop/.venv/bin/python}"
if [ ! -x "$PY" ]; then
  VENV="$ROOT/tests/interop/.venv"
  log "creating $VENV from tests/interop/requirements.txt (PyPI)"
  "${PYTHON:-python3}" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --disable-pip-version-check -q --upgrade pip >/dev/null
  "$VENV/bin/python" -m pip install --disable-pip-version-check -q -r "$ROOT/tests/interop/requirements.txt"
  PY="$VENV/bin/python"
fi
log "$("$PY" -c 'import mlflow, sklearn, onnxruntime; print("mlflow", mlflow.__version__, "| scikit-learn", sklearn.__version__, "| onnxruntime", onnxruntime.__version__)')"
# The load generator: wrk (Debian's package), unless --client node is given.
if ! command -v wrk >/dev/null && [[ " $* " != *" --client node "* ]]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing wrk (Debian package)"
    apt-get install -y -qq wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
  else
    echo "wrk is needed (Debian/Ubuntu: apt-get install wrk), or pass --client node" >&2
    exit 1
  fi
fi
log "node $(node --version), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"

mkdir -p "$WORK"
MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=true "$PY" "$HERE/train.py" "$WORK"
npx --no-install tsx "$HERE/bench.ts" --work "$WORK" --python "$PY" "$@"
