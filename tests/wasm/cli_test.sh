#!/bin/sh
# cli_test.sh RUSM WAT2WASM OUTDIR -- end-to-end test of `rusm wasm invoke`:
# builds small modules with wat2wasm into OUTDIR and checks stdout, stderr
# and exit status of results, traps (1), bad modules (2) and usage (64).
set -u
RUSM=$1
WAT2WASM=$2
OUT=$3
mkdir -p "$OUT" || exit 1
failures=0
checks=0

cat > "$OUT/ok.wat" <<'WAT'
(module
  (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
  (func (export "neg64") (param i64) (result i64) i64.const 0 local.get 0 i64.sub)
  (func (export "half") (param f64) (result f64) local.get 0 f64.const 0.5 f64.mul)
  (func (export "fdiv") (param f32 f32) (result f32) local.get 0 local.get 1 f32.div)
  (func (export "fid") (param f32) (result f32) local.get 0)
  (func (export "two") (result i32 i64) i32.const -1 i64.const 0x7fffffffffffffff)
  (func (export "div") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_s)
  (func (export "boom") unreachable)
  (func (export "nothing")))
WAT
# Validation is the engine's job here, not wat2wasm's: --no-check.
cat > "$OUT/invalid.wat" <<'WAT'
(module (func (export "f") (result i32) i64.const 0))
WAT
cat > "$OUT/imports.wat" <<'WAT'
(module (import "env" "f" (func)) (func (export "g")))
WAT
# A call long enough for --tier auto to compile the module while it runs
# (the default threshold is 2^22 fuel units; spin(n) spends about n):
# the loop stays interpreted, the calls of $mix after the switch run
# compiled, and $mix traps at iteration k (k >= n: never).
cat > "$OUT/hot.wat" <<'WAT'
(module
  (func $mix (param $acc i32) (param $i i32) (param $k i32) (result i32)
    (if (i32.eq (local.get $i) (local.get $k)) (then unreachable))
    (i32.add (i32.rotl (local.get $acc) (i32.const 7)) (i32.mul (local.get $i) (i32.const 0x9e3779b1))))
  (func (export "spin") (param $n i32) (param $k i32) (result i32)
    (local $i i32) (local $acc i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $acc (call $mix (local.get $acc) (local.get $i) (local.get $k)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $acc)))
WAT
"$WAT2WASM" "$OUT/ok.wat" -o "$OUT/ok.wasm" || exit 1
"$WAT2WASM" "$OUT/hot.wat" -o "$OUT/hot.wasm" || exit 1
"$WAT2WASM" --no-check "$OUT/invalid.wat" -o "$OUT/invalid.wasm" || exit 1
"$WAT2WASM" "$OUT/imports.wat" -o "$OUT/imports.wasm" || exit 1
printf 'this is not wasm' > "$OUT/malformed.wasm"

# check NAME WANT_STATUS WANT_STDOUT STDERR_PATTERN -- ARGS...
# (STDERR_PATTERN: a grep -E pattern the stderr must match; "" = empty)
check() {
  name=$1 want_status=$2 want_out=$3 err_pat=$4
  shift 5
  checks=$((checks + 1))
  "$RUSM" "$@" > "$OUT/stdout" 2> "$OUT/stderr"
  status=$?
  out=$(cat "$OUT/stdout")
  ok=1
  [ "$status" -eq "$want_status" ] || ok=0
  [ "$out" = "$want_out" ] || ok=0
  if [ -z "$err_pat" ]; then
    [ -s "$OUT/stderr" ] && ok=0
  else
    grep -Eq "$err_pat" "$OUT/stderr" || ok=0
  fi
  if [ $ok -eq 1 ]; then
    echo "ok   $name"
  else
    failures=$((failures + 1))
    echo "FAIL $name: rusm $*"
    echo "     status $status (want $want_status)"
    echo "     stdout: $(printf '%s' "$out" | tr '\n' '|') (want $(printf '%s' "$want_out" | tr '\n' '|'))"
    echo "     stderr: $(tr '\n' '|' < "$OUT/stderr") (want /$err_pat/)"
  fi
}

W="$OUT/ok.wasm"
check add          0 "5"          "" -- wasm invoke "$W" add 2 3
check add-wrap     0 "0"          "" -- wasm invoke "$W" add 0xffffffff 1
check add-neg      0 "-3"         "" -- wasm invoke "$W" add -1 -2
check add-unsigned 0 "-2147483648" "" -- wasm invoke "$W" add 2147483647 1
check neg64        0 "-5"         "" -- wasm invoke "$W" neg64 5
check neg64-min    0 "-9223372036854775808" "" -- wasm invoke "$W" neg64 0x8000000000000000
check half         0 "1.5"        "" -- wasm invoke "$W" half 3
check half-tiny    0 "4.9406564584124654e-324" "" -- wasm invoke "$W" half 1e-323
check fdiv-inf     0 "inf"        "" -- wasm invoke "$W" fdiv 1 0
check fdiv-ninf    0 "-inf"       "" -- wasm invoke "$W" fdiv -1 0
check f32-digits   0 "0.100000001" "" -- wasm invoke "$W" fid 0.1
check f32-nan      0 "nan"        "" -- wasm invoke "$W" fid nan
check multi        0 "-1
9223372036854775807"              "" -- wasm invoke "$W" two
check no-results   0 ""           "" -- wasm invoke "$W" nothing
check div-trap     1 ""           "^trap: integer divide by zero$" -- wasm invoke "$W" div 1 0
check ovf-trap     1 ""           "^trap: integer overflow$" -- wasm invoke "$W" div -2147483648 -1
check unreachable  1 ""           "^trap: unreachable" -- wasm invoke "$W" boom
check invalid      2 ""           "invalid module: .*type mismatch" -- wasm invoke "$OUT/invalid.wasm" f
check malformed    2 ""           "malformed module" -- wasm invoke "$OUT/malformed.wasm" f
check imports      2 ""           "cannot instantiate" -- wasm invoke "$OUT/imports.wasm" g
check missing-file 66 ""          "cannot read" -- wasm invoke "$OUT/nonexistent.wasm" f
check arity-few    64 ""          "add takes 2 arguments" -- wasm invoke "$W" add 1
check arity-many   64 ""          "add takes 2 arguments" -- wasm invoke "$W" add 1 2 3
check bad-int      64 ""          "not a valid i32" -- wasm invoke "$W" add 1 x
check int-range    64 ""          "not a valid i32" -- wasm invoke "$W" add 1 4294967296
check bad-float    64 ""          "not a valid f64" -- wasm invoke "$W" half 1.5x
check no-export    64 ""          "no exported function" -- wasm invoke "$W" nosuch
check no-args      64 ""          "usage: rusm" --
check invoke-usage 64 ""          "usage: rusm wasm invoke" -- wasm invoke "$W"
check unknown-cmd  64 ""          "unknown command" -- frobnicate
# The compiled tier gives the same answers, traps and errors.
check c-add        0 "5"          "" -- wasm invoke --tier compiled "$W" add 2 3
check c-neg64-min  0 "-9223372036854775808" "" -- wasm invoke --tier compiled "$W" neg64 0x8000000000000000
check c-half-tiny  0 "4.9406564584124654e-324" "" -- wasm invoke --tier compiled "$W" half 1e-323
check c-f32-nan    0 "nan"        "" -- wasm invoke --tier compiled "$W" fid nan
check c-div-trap   1 ""           "^trap: integer divide by zero$" -- wasm invoke --tier compiled "$W" div 1 0
check c-ovf-trap   1 ""           "^trap: integer overflow$" -- wasm invoke --tier compiled "$W" div -2147483648 -1
check c-unreachable 1 ""          "^trap: unreachable" -- wasm invoke --tier compiled "$W" boom
check c-invalid    2 ""           "invalid module: .*type mismatch" -- wasm invoke --tier compiled "$OUT/invalid.wasm" f
check c-bad-tier   64 ""          "unknown tier" -- wasm invoke --tier fast "$W" add 2 3
# --tier auto switches in the middle of the call and changes nothing: the
# same result as the interpreter, and a trap after the switch in the same
# place (the trap line names the function and offset).
H="$OUT/hot.wasm"
check a-add        0 "5"          "" -- wasm invoke --tier auto "$W" add 2 3
want_spin=$("$RUSM" wasm invoke "$H" spin 9000000 -1)
check a-spin       0 "$want_spin" "" -- wasm invoke --tier auto "$H" spin 9000000 -1
"$RUSM" wasm invoke "$H" spin 9000000 8500000 2> "$OUT/want_trap"
want_trap=$(cat "$OUT/want_trap")
check a-trap       1 ""           "^$want_trap\$" -- wasm invoke --tier auto "$H" spin 9000000 8500000
# --help goes to stdout with status 0; only its first line is compared.
checks=$((checks + 1))
if "$RUSM" --help | grep -q '^usage: rusm COMMAND' && "$RUSM" wasm --help | grep -q 'rusm wasm invoke'; then
  echo "ok   help"
else
  failures=$((failures + 1))
  echo "FAIL help: rusm --help / rusm wasm --help"
fi

echo "cli: $((checks - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]
