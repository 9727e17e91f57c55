#!/usr/bin/env bash
# The architectural invariant: the core (src/otp, include/rusm/otp.h and the
# built librusm-otp.a) names nothing of WebAssembly. Fails with the offenders.
set -u
src=${1:-.}
archive=${2:-}
status=0

hits=$(grep -rniE 'wasm|webassembly' "$src/src/otp" "$src/include/rusm/otp.h" 2>/dev/null)
if [ -n "$hits" ]; then
  echo "check-wasm-free: the core's sources mention Wasm:"; echo "$hits"; status=1
fi
if [ -n "$archive" ]; then
  if [ ! -f "$archive" ]; then echo "check-wasm-free: no archive at $archive"; exit 1; fi
  syms=$(nm -A "$archive" 2>/dev/null | grep -iE 'wasm' )
  if [ -n "$syms" ]; then
    echo "check-wasm-free: the core's archive has Wasm symbols:"; echo "$syms"; status=1
  fi
fi
[ $status -eq 0 ] && echo "check-wasm-free: core is Wasm-free"
exit $status
