#!/usr/bin/env bash
# bench/wasm/compare.sh A B [time|instr] [KERNEL...] -- compares two builds
# of our engine's bench_guest (paths A and B) on the guest kernels, for
# judging an interpreter change on a shared, noisy machine:
#   time   (default) interleaved runs, A B A B ..., 5 rounds, each the
#          median of 3 calls; prints the medians and B/A per kernel
#   instr  instructions executed (valgrind callgrind, small sizes): exact
#          and repeatable, but blind to branch prediction and code layout
# Both end with the geometric mean of B/A. Kernels are taken from
# $RUSM_BUILD_DIR/bench/wasm/kernels (default build/), built by run.sh.
# Handler placement inside interp.c moves unrelated kernels by up to 5%,
# so read a single kernel's change with care; `instr` tells layout from
# real work.
set -uo pipefail
cd "$(dirname "$0")/../.."
[[ $# -ge 2 ]] || { echo "usage: $0 BIN_A BIN_B [time|instr] [KERNEL...]" >&2; exit 64; }
A=$1 B=$2
shift 2
MODE=time
if [[ ${1:-} == time || ${1:-} == instr ]]; then MODE=$1; shift; fi
KDIR=${RUSM_BUILD_DIR:-build}/bench/wasm/kernels
# Sizes as in run.sh (time), and about 1/20 of them (instr).
declare -A N=([fib]=540 [sieve]=20 [matmul]=300 [intmath]=300000 [nbody]=1000000
              [mandel]=1500 [hash]=250 [sort]=16 [vm]=1000000 [bintree]=500 [fptr]=200 [lz]=160)
declare -A NS=([fib]=27 [sieve]=1 [matmul]=15 [intmath]=15000 [nbody]=50000
               [mandel]=75 [hash]=12 [sort]=1 [vm]=50000 [bintree]=25 [fptr]=10 [lz]=8)
KERNELS=("$@")
[[ ${#KERNELS[@]} -gt 0 ]] || KERNELS=(fib sieve matmul intmath nbody mandel hash sort vm bintree fptr lz)

ns_of() { "$1" run "$KDIR/$2.wasm" "$3" 3 | awk '{ for (i = 1; i < NF; i++) if ($i == "ns") print $(i + 1) }'; }
instr_of() {
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$1" run "$KDIR/$2.wasm" "$3" 1 2>&1 |
    awk '/Collected/ { print $4 }'
}
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

for k in "${KERNELS[@]}"; do
  [[ -n ${N[$k]+x} && -f $KDIR/$k.wasm ]] || { echo "$k: unknown kernel or not built" >&2; continue; }
  if [[ $MODE == instr ]]; then
    a=$(instr_of "$A" "$k" "${NS[$k]}") b=$(instr_of "$B" "$k" "${NS[$k]}")
  else
    ra=() rb=()
    for _ in 1 2 3 4 5; do
      ra+=("$(ns_of "$A" "$k" "${N[$k]}")")
      rb+=("$(ns_of "$B" "$k" "${N[$k]}")")
    done
    a=$(median "${ra[@]}") b=$(median "${rb[@]}")
  fi
  awk -v k="$k" -v a="$a" -v b="$b" -v m="$MODE" 'BEGIN {
    if (a <= 0 || b <= 0) { print k ": failed"; exit }
    if (m == "time") printf "%s A=%.1fms B=%.1fms B/A=%.3f\n", k, a / 1e6, b / 1e6, b / a
    else printf "%s A=%d B=%d B/A=%.3f\n", k, a, b, b / a }'
done | awk '{ print } /B\/A=/ { split($NF, r, "="); l += log(r[2]); n++ }
            END { if (n) printf "geomean B/A=%.4f\n", exp(l / n) }'
