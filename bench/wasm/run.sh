#!/usr/bin/env bash
# bench/wasm/run.sh [NAME] -- guest-code speed (called by scripts/bench.sh
# from the repo root, after `make build`).
#
# Builds the kernels in bench/wasm/kernels/ with clang-19, natively (-O2,
# linked with native_driver.c) and to wasm32 (-O2, freestanding, no
# imports, export "run"), into $RUSM_BUILD_DIR/bench/wasm/kernels/ (default
# build/), then runs each kernel:
#   native       native_<k> N REPS, median of REPS calls in one process
#   ours         build/bench/wasm/bench_guest: median of REPS calls, with
#                unlimited fuel (guest.*.x_native); for fuel_overhead_pct
#                also in slices of $SLICE fuel units (resumed after each
#                OUT_OF_FUEL) and under bench_guest_nofuel, the engine
#                built with -DRUSM_WASM_NO_FUEL (no fuel checks at all):
#                fuel_overhead_pct = geomean(sliced / no-fuel build) - 1,
#                fuel_slicing_overhead_pct = geomean(sliced / unlimited) - 1
#   compiled     the same driver with the module loaded for the compiled
#                tier (guest.*.compiled_x_native); compiled_load_ms is the
#                load, i.e. decode + validate + LLVM compile; fuel in slices
#                against the no-fuel build (fuel_overhead_pct.compiled)
#   auto         the same driver, loaded with RUSM_WASM_TIER_AUTO: the
#                interpreter until the module has spent 2^22 fuel units,
#                then compiled on a second thread; the call running then
#                moves to native code at its next branch back to an
#                outermost loop of its function (on-stack replacement):
#                guest.*.auto_x_native is the median of $AUTO_REPS calls,
#                guest.*.auto_first_x_native the first one alone, compile
#                thread's CPU time included; guest.*.tierup_ms is what
#                rusm_wasm_module_compile takes on a loaded module (more
#                than compiled_load_ms: it also compiles the entries that
#                move running calls over at their loops)
#   v8           node --no-liftoff (the optimizing tier: the figure quoted
#                as v8_x_native) and node's default tiering
#                (v8_default_x_native), both with --no-concurrent-marking,
#                median of REPS calls after instantiation
#   wasm_interp  wabt 1.0.32 cannot pass arguments to an export, so a
#                second wasm build exports "bench" = run(NI) with a smaller
#                size NI fixed at build time, run with --run-all-exports.
#                Its time is the whole process's CPU time minus that of a
#                `wasm-interp FILE` that only loads and instantiates
#                (medians of 3), compared with native run(NI) timed in the
#                same way as native run(N): the ratio is at equal work.
# All times are CPU time (user + system) of the process, not wall time:
# the machine is shared with other jobs.
# Every kernel's work is linear in its size; checksums must agree across
# all runners at equal size, else this script fails (exit 1) after
# printing. Output lines follow the `name: value unit` contract.
#
# NAME: empty (everything), guest, a kernel name, instantiate_us,
# fuel_overhead_pct or spec. Other names print nothing.
set -uo pipefail
cd "$(dirname "$0")/../.."
B=${RUSM_BUILD_DIR:-build}
SRC=bench/wasm
KDIR=$B/bench/wasm/kernels
NAME=${1:-}
CC_K=${BENCH_WASM_CC:-/usr/bin/clang-19}
REPS=${BENCH_WASM_REPS:-5}
OURS_REPS=${BENCH_WASM_OURS_REPS:-3}
# auto: the first calls overlap the compile thread (whose CPU time counts),
# so more calls, for a median that shows the steady state
AUTO_REPS=${BENCH_WASM_AUTO_REPS:-7}
SLICE=${BENCH_WASM_SLICE:-10000}
GUEST=$B/bench/wasm/bench_guest
GUEST_NOFUEL=$B/bench/wasm/bench_guest_nofuel

KERNELS=(fib sieve matmul intmath nbody mandel hash sort vm bintree fptr lz)
# N: size for native/ours/v8 (native ~50 ms on the 2-vCPU EPYC VM);
# NI: size for wasm-interp (~0.3-0.5 s there).
declare -A N=([fib]=540 [sieve]=20 [matmul]=300 [intmath]=300000 [nbody]=1000000
              [mandel]=1500 [hash]=250 [sort]=16 [vm]=1000000 [bintree]=500 [fptr]=200 [lz]=160)
declare -A NI=([fib]=48 [sieve]=1 [matmul]=2 [intmath]=20000 [nbody]=25000
               [mandel]=300 [hash]=15 [sort]=2 [vm]=40000 [bintree]=15 [fptr]=10 [lz]=6)

do_guest=0 do_inst=0 do_fuel=0 do_spec=0 geomeans=0
selected=("${KERNELS[@]}")
case "$NAME" in
  "") do_guest=1 do_inst=1 do_fuel=1 do_spec=1 geomeans=1 ;;
  guest|guest_geomean) do_guest=1 geomeans=1 ;;
  instantiate_us) do_inst=1 ;;
  fuel_overhead_pct) do_fuel=1 ;;
  spec|spec.passed|spec.failed) do_spec=1 ;;
  *)
    if [[ -n "${N[$NAME]+x}" ]]; then do_guest=1; selected=("$NAME"); else exit 0; fi ;;
esac

fail=0
note() { echo "bench/wasm: $*" >&2; }
field() { awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }'; }
ratio() { awk -v a="$1" -v b="$2" -v p="${3:-2}" 'BEGIN { if (a == "" || b == "" || b <= 0) print ""; else printf "%.*f", p, a / b }'; }
median3() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# CPU time (user + system, ns, ms resolution) of a command, like the
# in-process timers of the other runners (the machine is shared); its
# output goes to $TMPO.
TMPO=$(mktemp)
trap 'rm -f "$TMPO"' EXIT
cpu_ns() {
  local TIMEFORMAT='%3U %3S' tm
  tm=$( { time "$@" >"$TMPO" 2>&1; } 2>&1 ) || return 1
  awk '{ printf "%d", ($1 + $2) * 1e9 }' <<<"$tm"
}

# ------------------------------------------------------------ building
KCFLAGS=(-std=c17 -O2 -Wall -Wextra -Werror -fno-math-errno)
WFLAGS=(--target=wasm32 -ffreestanding -nostdlib -Wl,--no-entry)
build_kernel() { # $1 kernel; builds native_$1, $1.wasm, $1_interp_NI.wasm
  local k=$1 src=$SRC/kernels/$1.c deps=("$SRC/kernels/$1.c" "$SRC/kernels/kernel.h" "$SRC/kernels/rt.c" "$SRC/native_driver.c" "$SRC/kernels/interp_entry.c")
  newer() { local out=$1 d; [[ -f $out ]] || return 0; for d in "${deps[@]}"; do [[ $d -nt $out ]] && return 0; done; return 1; }
  local out=$KDIR/native_$k
  if newer "$out"; then
    "$CC_K" "${KCFLAGS[@]}" -o "$out" "$SRC/native_driver.c" "$src" || return 1
  fi
  out=$KDIR/$k.wasm
  if newer "$out"; then
    "$CC_K" "${KCFLAGS[@]}" "${WFLAGS[@]}" -Wl,--export=run -o "$out" "$src" "$SRC/kernels/rt.c" || return 1
  fi
  out=$KDIR/${k}_interp_${NI[$k]}.wasm
  if newer "$out"; then
    "$CC_K" "${KCFLAGS[@]}" "${WFLAGS[@]}" -DINTERP_N="${NI[$k]}" -Wl,--export=bench -o "$out" \
      "$src" "$SRC/kernels/rt.c" "$SRC/kernels/interp_entry.c" || return 1
  fi
}

declare -A X_OURS=() X_V8=() X_V8D=() X_INT=() FUEL_RATIO=() FUEL_SLICING=() X_COMP=() LOAD_MS=() FUEL_RATIO_C=() X_AUTO=() X_AUTO1=()
have_ours=1
if [[ ! -x $GUEST ]]; then
  have_ours=0
  (( do_guest || do_fuel || do_inst )) &&
  note "our engine's driver $GUEST is not built: skipping our engine (guest.*.x_native, fuel_overhead_pct)"
fi

have_nofuel=0
if (( do_fuel && have_ours )); then
  # the engine built with -DRUSM_WASM_NO_FUEL (bench/wasm/CMakeLists.txt)
  if cmake --build "$B" --target bench_guest_nofuel >/dev/null 2>&1 && [[ -x $GUEST_NOFUEL ]]; then
    have_nofuel=1
  else
    note "cannot build $GUEST_NOFUEL: fuel_overhead_pct left out"
  fi
fi

run_ours() { # $1 kernel [$2 slice [$3 driver [$4 tier]]]; prints "checksum C ns T ..." or nothing (error on stderr)
  local out reps=$OURS_REPS
  [[ ${4:-} == auto ]] && reps=$AUTO_REPS
  if ! out=$("${3:-$GUEST}" run "$KDIR/$1.wasm" "${N[$1]}" "$reps" "${2:-0}" "${4:-interp}" 2>&1); then
    note "OUR ENGINE FAILED on kernel $1${2:+ (fuel slices of $2)}${4:+ ($4 tier)}: $out"
    return 1
  fi
  echo "$out"
}

check() { # $1 what, $2 expected, $3 got
  if [[ -n $3 && $2 != "$3" ]]; then
    note "CHECKSUM MISMATCH: $1: expected $2 (native), got $3"
    fail=1
    return 1
  fi
}

if (( do_guest || do_fuel )); then
  mkdir -p "$KDIR"
  for k in "${selected[@]}"; do
    if ! build_kernel "$k"; then note "cannot build kernel $k"; fail=1; continue; fi
    nat=$("$KDIR/native_$k" "${N[$k]}" "$REPS") || { note "native $k failed"; fail=1; continue; }
    nat_ns=$(field ns <<<"$nat") nat_sum=$(field checksum <<<"$nat")
    if (( do_guest )); then
      echo "guest.$k.native: $(awk -v t="$nat_ns" 'BEGIN { printf "%.1f", t / 1e6 }') ms"
    fi
    # ours
    if (( have_ours )); then
      if o=$(run_ours "$k"); then
        check "ours $k" "$nat_sum" "$(field checksum <<<"$o")" && X_OURS[$k]=$(ratio "$(field ns <<<"$o")" "$nat_ns")
        if (( have_nofuel )) && [[ -n ${X_OURS[$k]:-} ]] && f=$(run_ours "$k" "$SLICE") &&
           z=$(run_ours "$k" 0 "$GUEST_NOFUEL"); then
          check "ours $k (fuel slices)" "$nat_sum" "$(field checksum <<<"$f")" &&
          check "ours $k (no fuel build)" "$nat_sum" "$(field checksum <<<"$z")" && {
            FUEL_RATIO[$k]=$(ratio "$(field ns <<<"$f")" "$(field ns <<<"$z")" 4)
            FUEL_SLICING[$k]=$(ratio "$(field ns <<<"$f")" "$(field ns <<<"$o")" 4)
          }
        fi
      else
        fail=1
      fi
      if (( do_guest )) && [[ -n ${X_OURS[$k]:-} ]]; then echo "guest.$k.x_native: ${X_OURS[$k]}"; fi
      # the compiled tier (LLVM): run time, fuel in slices vs no-fuel
      # build, and the time to load (decode + validate + compile)
      if o=$(run_ours "$k" 0 "$GUEST" compiled); then
        check "ours compiled $k" "$nat_sum" "$(field checksum <<<"$o")" && X_COMP[$k]=$(ratio "$(field ns <<<"$o")" "$nat_ns")
        LOAD_MS[$k]=$(awk -v t="$(field load_ns <<<"$o")" 'BEGIN { printf "%.1f", t / 1e6 }')
        if (( have_nofuel )) && [[ -n ${X_COMP[$k]:-} ]] && f=$(run_ours "$k" "$SLICE" "$GUEST" compiled) &&
           z=$(run_ours "$k" 0 "$GUEST_NOFUEL" compiled); then
          check "ours compiled $k (fuel slices)" "$nat_sum" "$(field checksum <<<"$f")" &&
          check "ours compiled $k (no fuel build)" "$nat_sum" "$(field checksum <<<"$z")" &&
            FUEL_RATIO_C[$k]=$(ratio "$(field ns <<<"$f")" "$(field ns <<<"$z")" 4)
        fi
      else
        fail=1
      fi
      if (( do_guest )) && [[ -n ${X_COMP[$k]:-} ]]; then
        echo "guest.$k.compiled_x_native: ${X_COMP[$k]}"
        echo "guest.$k.compiled_load_ms: ${LOAD_MS[$k]} ms"
      fi
      # tier-up: the interpreter, then the compiled tier while running
      if (( do_guest )) && o=$(run_ours "$k" 0 "$GUEST" auto); then
        if check "ours auto $k" "$nat_sum" "$(field checksum <<<"$o")"; then
          X_AUTO[$k]=$(ratio "$(field ns <<<"$o")" "$nat_ns")
          X_AUTO1[$k]=$(ratio "$(field first_ns <<<"$o")" "$nat_ns")
          echo "guest.$k.auto_x_native: ${X_AUTO[$k]}"
          echo "guest.$k.auto_first_x_native: ${X_AUTO1[$k]}"
        fi
        # what the tier-up compiles (with the loop entries): CPU time
        if t=$("$GUEST" tierup "$KDIR/$k.wasm" 2>&1); then
          echo "guest.$k.tierup_ms: $(awk -v t="$(field tierup_ns <<<"$t")" 'BEGIN { printf "%.1f", t / 1e6 }') ms"
        else
          note "OUR ENGINE FAILED to tier up kernel $k: $t"; fail=1
        fi
      elif (( do_guest )); then
        fail=1
      fi
    fi
    (( do_guest )) || continue
    # V8: optimizing tier (quoted) and default tiering
    for tier in opt default; do
      flags=(--no-concurrent-marking)
      [[ $tier == opt ]] && flags+=(--no-liftoff)
      if v=$(node "${flags[@]}" "$SRC/v8_driver.mjs" "$KDIR/$k.wasm" "${N[$k]}" "$REPS" 2>&1); then
        if check "v8 ($tier) $k" "$nat_sum" "$(field checksum <<<"$v")"; then
          r=$(ratio "$(field ns <<<"$v")" "$nat_ns")
          if [[ $tier == opt ]]; then X_V8[$k]=$r; echo "guest.$k.v8_x_native: $r"
          else X_V8D[$k]=$r; echo "guest.$k.v8_default_x_native: $r"; fi
        fi
      else
        note "node ($tier) failed on $k: $v"; fail=1
      fi
    done
    # wasm-interp at size NI, against native at NI
    nati=$("$KDIR/native_$k" "${NI[$k]}" "$REPS") || { note "native $k (NI) failed"; fail=1; continue; }
    iw=$KDIR/${k}_interp_${NI[$k]}.wasm
    ts=() tu=() isum=""
    for _ in 1 2 3; do
      t=$(cpu_ns wasm-interp "$iw" --run-all-exports) || { note "wasm-interp failed on $k: $(cat "$TMPO")"; fail=1; break; }
      iout=$(cat "$TMPO")
      ts+=("$t") tu+=("$(cpu_ns wasm-interp "$iw")")
      isum=$(sed -n 's/^bench() => i32:\(-\{0,1\}[0-9]*\).*/\1/p' <<<"$iout")
      (( isum < 0 )) && isum=$((isum + 4294967296))
    done
    if (( ${#ts[@]} == 3 )) && check "wasm-interp $k (n=${NI[$k]})" "$(field checksum <<<"$nati")" "${isum:-none}"; then
      X_INT[$k]=$(ratio "$(( $(median3 "${ts[@]}") - $(median3 "${tu[@]}") ))" "$(field ns <<<"$nati")")
      echo "guest.$k.wasm_interp_x_native: ${X_INT[$k]}"
    fi
  done
fi

geomean() { # values as args
  printf '%s\n' "$@" | awk 'NF { s += log($1); n++ } END { if (n) printf "%.2f", exp(s / n) }'
}
if (( geomeans )); then
  nk=${#selected[@]}
  for pair in "x_native:X_OURS" "compiled_x_native:X_COMP" "auto_x_native:X_AUTO" "auto_first_x_native:X_AUTO1" "v8_x_native:X_V8" "v8_default_x_native:X_V8D" "wasm_interp_x_native:X_INT"; do
    name=${pair%%:*}; declare -n arr=${pair#*:}
    if (( ${#arr[@]} )); then
      (( ${#arr[@]} < nk )) && note "guest_geomean.$name is over ${#arr[@]} of $nk kernels"
      echo "guest_geomean.$name: $(geomean "${arr[@]}")"
    fi
    unset -n arr
  done
  if (( ${#X_OURS[@]} && ${#X_INT[@]} )); then
    echo "guest_geomean.speedup_over_wasm_interp: $(ratio "$(geomean "${X_INT[@]}")" "$(geomean "${X_OURS[@]}")")"
  fi
  if (( ${#X_COMP[@]} && ${#X_INT[@]} )); then
    echo "guest_geomean.compiled_speedup_over_wasm_interp: $(ratio "$(geomean "${X_INT[@]}")" "$(geomean "${X_COMP[@]}")")"
  fi
fi

if (( do_fuel && ${#FUEL_RATIO[@]} )); then
  (( ${#FUEL_RATIO[@]} < ${#selected[@]} )) && note "fuel_overhead_pct is over ${#FUEL_RATIO[@]} of ${#selected[@]} kernels"
  pct() { printf '%s\n' "$@" | awk '{ s += log($1); n++ } END { printf "%.1f", (exp(s / n) - 1) * 100 }'; }
  # with fuel checks, a finite budget run in slices of $SLICE units, vs the
  # same engine built with -DRUSM_WASM_NO_FUEL (no checks at all)
  echo "fuel_overhead_pct: $(pct "${FUEL_RATIO[@]}") %"
  # the part due to slicing alone: sliced vs unlimited budget, same build
  echo "fuel_slicing_overhead_pct: $(pct "${FUEL_SLICING[@]}") %"
  # the compiled tier: sliced vs compiled without fuel checks
  (( ${#FUEL_RATIO_C[@]} )) && echo "fuel_overhead_pct.compiled: $(pct "${FUEL_RATIO_C[@]}") %"
fi

if (( do_inst && have_ours )); then
  if o=$("$GUEST" instantiate 20000 2>&1); then
    echo "instantiate_us: $(field us <<<"$o") us"
  else
    note "OUR ENGINE FAILED on instantiate_us: $o"; fail=1
  fi
fi

if (( do_spec )); then
  # W3's spec runner (tests/wasm/spec_runner.c) over every converted .wast;
  # its last line is "N passed, N failed, N skipped" (assertions).
  runner=$B/tests/wasm/wasm_spec_runner
  shopt -s nullglob
  jsons=("$B"/tests/wasm/spec/*/*.json)
  shopt -u nullglob
  if [[ ! -x $runner || ${#jsons[@]} -eq 0 ]]; then
    note "spec runner ($runner) or converted suite not built: spec.passed/spec.failed left out"
  else
    # the interpreter (spec.passed, ...), then the compiled tier
    # (spec.compiled_passed, ...)
    for tier in interp compiled; do
      pre=spec.; [[ $tier == compiled ]] && pre=spec.compiled_
      last=$("$runner" --tier "$tier" "${jsons[@]}" 2>/dev/null | tail -n 1)
      if [[ $last =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed(,\ ([0-9]+)\ skipped)? ]]; then
        echo "${pre}passed: ${BASH_REMATCH[1]}"
        echo "${pre}failed: ${BASH_REMATCH[2]}"
        [[ -n ${BASH_REMATCH[4]} ]] && echo "${pre}skipped: ${BASH_REMATCH[4]}"
      else
        note "spec runner ($tier) gave no totals line (last line: $last)"; fail=1
      fi
    done
  fi
fi

exit $fail
