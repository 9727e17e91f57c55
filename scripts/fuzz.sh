#!/usr/bin/env bash
# fuzz.sh SECONDS -- a bounded libFuzzer run over the Wasm engine (decode +
# validate + instantiate + a fuel-bounded call of every export), harness
# tests/wasm/fuzz_load.c. Builds it with clang (-fsanitize=fuzzer,address,
# undefined) in build-fuzz/, seeds the corpus with the spec suite's modules
# (converted by the same build), runs for SECONDS, and exits non-zero on a
# crash, printing the path of the crashing input. Keep crash inputs as
# regression tests: copy them to tests/wasm/regress/NAME.wasm.
set -euo pipefail

SECS=${1:-60}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${RUSM_FUZZ_BUILD:-$ROOT/build-fuzz}
JOBS=${JOBS:-2}
CC=${FUZZ_CC:-clang}

echo "fuzz: building the harness in $BUILD ($CC)"
# -fsanitize=fuzzer-no-link instruments the engine for coverage; only the
# harness links libFuzzer's main (RUSM_FUZZ adds the wasm_fuzz_load target).
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_C_COMPILER="$CC" -DRUSM_SANITIZE=address \
      -DCMAKE_C_FLAGS=-fsanitize=fuzzer-no-link -DRUSM_FUZZ=ON >/dev/null
cmake --build "$BUILD" -j"$JOBS" --target wasm_fuzz_load wasm_spec_convert >/dev/null

FUZZER=$BUILD/tests/wasm/wasm_fuzz_load
SEEDS=$BUILD/fuzz/seeds
CORPUS=$BUILD/fuzz/corpus
CRASHES=$BUILD/fuzz/crashes
mkdir -p "$SEEDS" "$CORPUS" "$CRASHES"
# Seeds: every module of the non-SIMD suite files plus the regression inputs.
find "$BUILD/tests/wasm/spec" -name '*.wasm' ! -path '*/simd_*' -exec cp -u {} "$SEEDS/" \;
cp -u "$ROOT"/tests/wasm/regress/*.wasm "$SEEDS/" 2>/dev/null || true
echo "fuzz: $(ls "$SEEDS" | wc -l) seed inputs, running for ${SECS}s"

LOG=$BUILD/fuzz/last-run.log
status=0
# CORPUS (first) collects new inputs and survives between runs; SEEDS is
# read-only. -timeout: one input may take at most 10 s (fuel bounds every
# call, so more is a hang); -rss_limit_mb: an unbounded allocation is a bug.
# -malloc_limit_mb: a valid module may declare up to 4 GiB of memory
# (65536 pages), which the heap hands out untouched; only resident memory
# (the RSS limit) says whether a module really used too much.
# FUZZ_SEED: the bounded run in `make test` uses a fixed seed, so a CI
# failure is a reproducible regression; `make fuzz` explores at random.
SEED_FLAG=
if [ -n "${FUZZ_SEED:-}" ]; then SEED_FLAG="-seed=$FUZZ_SEED"; fi
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
  "$FUZZER" "$CORPUS" "$SEEDS" -max_total_time="$SECS" -timeout=10 $SEED_FLAG \
  -rss_limit_mb=2048 -malloc_limit_mb=4200 -max_len=65536 -print_final_stats=1 \
  -artifact_prefix="$CRASHES/" >"$LOG" 2>&1 || status=$?

tail -n 25 "$LOG"
if [ "$status" -ne 0 ]; then
  crash=$(grep -o "Test unit written to .*" "$LOG" | sed 's/Test unit written to //' | tail -n 1)
  echo "fuzz: FAILED (status $status); full log: $LOG"
  [ -n "$crash" ] && echo "fuzz: crash input: $crash (reproduce: $FUZZER $crash)"
  exit 1
fi
echo "fuzz: no crash in ${SECS}s"
