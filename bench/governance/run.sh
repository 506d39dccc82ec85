#!/usr/bin/env bash
# Governance benchmark: authorization overhead (a granted non-admin vs the admin, same calls, interleaved) with
# 10,000 grants across 500 groups, and a filtered listing of 10,000 tables. SQLite, then PostgreSQL when
# WEIR_TEST_POSTGRES_URL is set (start one with scripts/pg-start.sh).
#
#   bash bench/governance/run.sh            BENCH_ROUNDS=400 BENCH_LIST_ROUNDS=15 by default
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT/apps/server"
npx tsx "$ROOT/bench/governance/authorize-micro.ts"
npx tsx "$ROOT/bench/governance/bench.ts" sqlite
if [ -n "${WEIR_TEST_POSTGRES_URL:-}" ]; then
  npx tsx "$ROOT/bench/governance/bench.ts" postgres
fi
