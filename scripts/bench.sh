#!/usr/bin/env bash
# `make bench [BENCH=name]`: runs every bench/<area>/run.sh, passing the
# optional workload name; an area that does not know the name prints nothing.
# Output lines are `name: value unit` (see README, "Benchmarks").
set -euo pipefail
cd "$(dirname "$0")/.."
for runner in bench/*/run.sh; do
  [ -f "$runner" ] || continue
  bash "$runner" "${1:-}"
done
