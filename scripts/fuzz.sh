#!/usr/bin/env bash
# Builds inferd's libFuzzer targets (fuzz/) with clang, ASan and UBSan in build-fuzz, then runs
# each one for SECONDS_PER_TARGET seconds (default 30) on its seed corpus (fuzz/corpus/<target>/).
# Prints the executions per target; exits non-zero when a target crashes (the crashing input is
# left in build-fuzz/artifacts/<target>/). New inputs libFuzzer finds go to
# build-fuzz/corpus/<target>/, never into the committed seeds.
#   scripts/fuzz.sh [SECONDS_PER_TARGET]     env: FUZZ_JOBS (build parallelism, default nproc)
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_TARGET="${1:-30}"
BUILD_DIR=build-fuzz
TARGETS=(v2_json_request_fuzzer grpc_request_fuzzer model_config_fuzzer http_router_fuzzer
  image_decoder_fuzzer)
# fuzzer-no-link: coverage instrumentation in the libraries too (without it libFuzzer sees only
# the fuzz/*.cc files and mutates blind); the fuzz targets add -fsanitize=fuzzer themselves.
SAN_FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all"
SAN_FLAGS+=" -fno-omit-frame-pointer"

cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang \
  -DCMAKE_CXX_FLAGS="$SAN_FLAGS" -DCMAKE_C_FLAGS="$SAN_FLAGS" \
  -DINFERD_FUZZ=ON -DINFERD_BUILD_TESTS=OFF -DINFERD_WERROR=ON >/dev/null
cmake --build "$BUILD_DIR" -j "${FUZZ_JOBS:-$(nproc)}" --target "${TARGETS[@]}"

# Third-party libraries (protobuf, simdjson) are not instrumented and keep a few global
# allocations until exit; leak checking would only report those, so it is off.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

status=0
summary=()
for target in "${TARGETS[@]}"; do
  work="$BUILD_DIR/corpus/$target"
  artifacts="$BUILD_DIR/artifacts/$target"
  log="$BUILD_DIR/logs/$target.log"
  mkdir -p "$work" "$artifacts" "$(dirname "$log")"
  echo "fuzz: $target for ${SECONDS_PER_TARGET}s"
  rc=0
  # The first corpus directory receives new inputs; the committed seeds are read only.
  "$BUILD_DIR/fuzz/$target" -max_total_time="$SECONDS_PER_TARGET" -print_final_stats=1 \
    -artifact_prefix="$artifacts/" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
    "$work" "fuzz/corpus/$target" >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  if [ "$rc" -ne 0 ]; then
    status=1
    summary+=("$target: CRASH (exit $rc) after ${execs:-?} executions; log $log, input in $artifacts/")
    tail -n 40 "$log"
  else
    summary+=("$target: ${execs:-?} executions in ${SECONDS_PER_TARGET}s, no crash")
  fi
done

printf 'fuzz: %s\n' "${summary[@]}"
exit "$status"
