#!/usr/bin/env bash
# Actor benchmarks, RUSM side by side with Erlang/OTP in the same invocation.
#
#   bash bench/otp/run.sh [NAME]      (from scripts/bench.sh, after `make build`)
#
# With NAME, runs only that workload (prints nothing if NAME is not one of
# ours). Output, one line per figure (see README, "Benchmarks"):
#   NAME: value unit             RUSM (bench_otp, built in $RUSM_BUILD_DIR)
#   NAME.erlang: value unit      Erlang/OTP (rusm_bench.erl), same schedulers
#   NAME.ratio: X                throughput: ours / Erlang, higher is better
#   NAME.erlang_over_ours: X     memory (idle_mem_*): Erlang bytes per process
#                                divided by ours, so higher is better here too
# Every figure is the median of RUSM_BENCH_RUNS runs (default 3).
#
# Environment: RUSM_BUILD_DIR (default build), RUSM_BENCH_WORKERS (worker
# threads and Erlang schedulers, default 2), RUSM_BENCH_RUNS (default 3).
#
# Fairness notes. Erlang runs with `+S W:W` (W = our workers) and +P raised
# for a million processes; otherwise default flags. Each Erlang run is a fresh
# driver process in one VM (warm, like our runs in one runtime). Erlang's
# logger is set to level none, so the crashes of sup_restart format no crash
# reports: that makes Erlang faster, not slower. idle_mem_* for Erlang is
# the erlang:memory(processes) delta (heap + process structure, no allocator
# slack); ours is the resident-set (RSS) delta, everything included, each run
# in a fresh OS process.
set -uo pipefail
cd "$(dirname "$0")/../.."

BUILD=${RUSM_BUILD_DIR:-build}
BIN=$BUILD/bench/otp/bench_otp
WORKERS=${RUSM_BENCH_WORKERS:-2}
RUNS=${RUSM_BENCH_RUNS:-3}
TIMEOUT=300
export RUSM_BENCH_WORKERS=$WORKERS

# name, unit, scale (divide the per-second or byte value by it), kind
WORKLOADS="
spawn_storm M/s 1e6 rate
spawn_storm_coro M/s 1e6 rate
spawn_idle M/s 1e6 rate
idle_mem_handler bytes 1 mem
idle_mem_coro bytes 1 mem
ping_pong M/s 1e6 rate
ring M/s 1e6 rate
ring_multi M/s 1e6 rate
fan_in M/s 1e6 rate
link_exit M/s 1e6 rate
sup_restart K/s 1e3 rate
call_rtt M/s 1e6 rate
"

want=${1:-}
if [ -n "$want" ] && ! grep -q "^$want " <<<"$WORKLOADS"; then
  exit 0
fi

status=0

# Median of the RESULT lines on stdin, divided by scale; empty if none.
median() {
  awk -v scale="$1" '/^RESULT /{ v[n++] = $2 }
    END {
      if (n == 0) exit
      for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
      m = (n % 2) ? v[int(n / 2)] : (v[n / 2 - 1] + v[n / 2]) / 2
      printf "%.6g\n", m / scale
    }'
}

fmt() {  # value unit -> printable value
  if [ "$2" = bytes ]; then printf '%.0f' "$1"; else printf '%.3f' "$1"; fi
}

# Erlang: compile the bench modules once into a temporary directory.
ERL_OK=0
if command -v erlc >/dev/null && command -v erl >/dev/null; then
  EBIN=$(mktemp -d "${TMPDIR:-/tmp}/rusm-bench-otp.XXXXXX")
  trap 'rm -rf "$EBIN"' EXIT
  if erlc -o "$EBIN" bench/otp/*.erl; then
    ERL_OK=1
  else
    echo "bench/otp: erlc failed; no Erlang figures" >&2
    status=1
  fi
else
  echo "bench/otp: erl not installed; no Erlang figures" >&2
fi

if [ ! -x "$BIN" ]; then
  echo "bench/otp: $BIN not built (make build)" >&2
  status=1
fi

while read -r name unit scale kind; do
  [ -n "$name" ] || continue
  [ -z "$want" ] || [ "$want" = "$name" ] || continue

  ours=""
  if [ -x "$BIN" ]; then
    out=""
    rc=0
    if [ "$kind" = mem ]; then
      # A fresh OS process per run: an RSS delta needs untouched memory.
      for ((r = 0; r < RUNS; r++)); do
        o=$(timeout "$TIMEOUT" "$BIN" "$name" 1 </dev/null) || { rc=$?; break; }
        out+="$o"$'\n'
      done
    else
      out=$(timeout "$TIMEOUT" "$BIN" "$name" "$RUNS" </dev/null) || rc=$?
    fi
    if [ "$rc" = 2 ]; then
      :   # not available in this build (e.g. no server/supervisor yet)
    elif [ "$rc" != 0 ]; then
      echo "bench/otp: $name: RUSM run failed (exit $rc)" >&2
      status=1
    else
      ours=$(median "$scale" <<<"$out")
    fi
  fi

  erl_v=""
  if [ "$ERL_OK" = 1 ]; then
    rc=0
    out=$(timeout "$TIMEOUT" erl -noshell +S "$WORKERS:$WORKERS" +P 4194304 \
            -pa "$EBIN" -run rusm_bench main "$name" "$RUNS" </dev/null) || rc=$?
    if [ "$rc" != 0 ]; then
      echo "bench/otp: $name: Erlang run failed (exit $rc)" >&2
      status=1
    else
      erl_v=$(median "$scale" <<<"$out")
    fi
  fi

  [ -n "$ours" ] && echo "$name: $(fmt "$ours" "$unit") $unit"
  [ -n "$erl_v" ] && echo "$name.erlang: $(fmt "$erl_v" "$unit") $unit"
  if [ -n "$ours" ] && [ -n "$erl_v" ]; then
    if [ "$kind" = mem ]; then
      awk -v o="$ours" -v e="$erl_v" -v n="$name" 'BEGIN { if (o > 0) printf "%s.erlang_over_ours: %.2f\n", n, e / o }'
    else
      awk -v o="$ours" -v e="$erl_v" -v n="$name" 'BEGIN { if (e > 0) printf "%s.ratio: %.2f\n", n, o / e }'
    fi
  fi
done <<<"$WORKLOADS"

exit $status
