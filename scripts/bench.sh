#!/usr/bin/env bash
# `make bench [BENCH=name]`: runs every bench/<area>/run.sh, passing the
# optional workload name; an area that does not know the name prints nothing.
# Output lines are `name: value unit` (see README, "Benchmarks"). One area's
# failure does not stop the others; the exit status reports it at the end.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
for runner in bench/*/run.sh; do
  [ -f "$runner" ] || continue
  bash "$runner" "${1:-}" || { echo "bench: $runner failed" >&2; status=1; }
done
exit $status
