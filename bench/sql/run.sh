#!/usr/bin/env bash
# bench/sql: the Statement Execution API beside raw DuckDB on flights-3m.parquet (vega-datasets).
#
#   bash bench/sql/run.sh
#
# Scratch data goes to bench/sql/work (removed at the start of each run); WEIR_BENCH_REPEATS (default 21)
# sets how many runs each query median is taken over.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT"
npx --no-install tsx "$HERE/bench.ts" "$HERE/work"
