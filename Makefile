# RUSM top-level driver. `make run` and `make test` are the two set-up
# commands; both install missing Debian packages first (scripts/deps.sh).
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
BENCH ?=

.PHONY: all deps build run test test-main test-asan test-tsan test-fuzz bench fuzz clean

all: build

deps:
	@bash scripts/deps.sh

# Default build: gcc, -O2 -g. The CLI lands at build/rusm.
build: deps
	cmake -S . -B build -DCMAKE_C_COMPILER=gcc $(CMAKE_FLAGS) >/dev/null
	cmake --build build -j$(JOBS)

run: build
	./build/examples/demo_tree
	./build/examples/demo_supervision

test: deps
	$(MAKE) test-main test-asan test-tsan test-fuzz
	@echo "make test: all suites passed"

test-main: build
	ctest --test-dir build --output-on-failure -j$(JOBS)

# ASan+UBSan with clang: every test.
test-asan: deps
	cmake -S . -B build-asan -DCMAKE_C_COMPILER=clang -DRUSM_SANITIZE=address $(CMAKE_FLAGS) >/dev/null
	cmake --build build-asan -j$(JOBS)
	ASAN_OPTIONS=detect_leaks=1 ctest --test-dir build-asan --output-on-failure -j$(JOBS) -LE nosan

# TSan with clang: every core test (the stress_* ones are made for it) and
# the Wasm engine's concurrent parts (tests/tsan.supp: why LLVM is exempt).
test-tsan: deps
	cmake -S . -B build-tsan -DCMAKE_C_COMPILER=clang -DRUSM_SANITIZE=thread $(CMAKE_FLAGS) >/dev/null
	cmake --build build-tsan -j$(JOBS)
	TSAN_OPTIONS=suppressions=$(CURDIR)/tests/tsan.supp ctest --test-dir build-tsan --output-on-failure -j$(JOBS) -L 'otp|concurrency'

# A bounded libFuzzer run over the Wasm loader (longer: make fuzz).
test-fuzz: deps
	FUZZ_SEED=1 bash scripts/fuzz.sh 60

bench: build
	bash scripts/bench.sh $(BENCH)

fuzz: deps
	bash scripts/fuzz.sh 600

clean:
	rm -rf build build-asan build-tsan build-fuzz
