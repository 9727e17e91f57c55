#!/usr/bin/env bash
# Installs the Debian packages RUSM's build, tests and benchmarks need.
# Idempotent: packages already present are skipped, so a second run is quick.
set -euo pipefail

packages=(
  build-essential cmake pkg-config   # the build
  clang clang-19 lld-19              # clang build + sanitizers; clang-19 builds wasm32 guests
  libclang-rt-14-dev                 # libFuzzer + sanitizer runtimes for clang (14)
  libclang-rt-19-dev-wasm32 wasi-libc # compiler-rt builtins + libc for wasm32 guests
  wabt                               # wast2json (spec suite), wasm-interp (bench peer)
  llvm-19-dev                        # the Wasm engine's compiled tier (LLVM C API, in-process JIT)
  libjansson-dev                     # JSON reader for the spec runner
  erlang-base                        # `erl`, the peer in actor benchmarks
  nodejs                             # V8, the peer in guest benchmarks
  valgrind                           # leak checks
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
