#!/usr/bin/env bash
# Installs the Debian bookworm packages inferd builds, tests and benchmarks with.
# Idempotent: only packages that are missing are installed, so a second run is a no-op.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config git ca-certificates curl
  clang  # make check-thread-safety: the lock annotations, checked by the compiler
  libclang-rt-14-dev  # make fuzz / test-asan / test-tsan: libFuzzer and the sanitizer runtimes
  # libraries
  libboost-dev libssl-dev
  libprotobuf-dev protobuf-compiler libgrpc++-dev protobuf-compiler-grpc
  libsimdjson-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libcli11-dev
  libtorch-dev  # the TorchScript backend (src/backends/pytorch) and `inferd optimize` distill
  libonnx-dev  # `inferd optimize` (src/optimize): ONNX protobuf, checker, shape inference
  # tests and benchmarks
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  python3 python3-onnx python3-numpy python3-requests python3-grpcio python3-pytest
  python3-torch  # scripts/make_torch_models.py: the TorchScript example and test models
  # bench/: the transport-limit baseline and a reference load generator
  nginx-light wrk
  # tests/integration/test_metrics_prometheus.py: a real Prometheus scrapes inferd
  prometheus
  # deploy/haproxy and tests/integration/test_haproxy.py: replicas behind a real HAProxy (#14)
  haproxy
  # s3:// model repositories (src/repository/s3_client.cc): libcurl signs with AWS SigV4 (#14)
  libcurl4-openssl-dev
  # asynchronous jobs (src/jobs, #17): the durable job store; payload logging reuses libcurl
  libsqlite3-dev
  # inferd predict .npz output (src/batch/zip_writer.cc): the zip CRC-32
  zlib1g-dev
  # pipelines (#13): image processors (src/backends/image), the digits example, Pillow baseline
  libjpeg62-turbo-dev libpng-dev python3-sklearn python3-pil
  # tests/web/console.test.mjs: the web console in headless Chromium (playwright-core drives
  # this browser; it never downloads one) (#17)
  chromium
  # the SentencePiece tokenizer (src/backends/sentencepiece) and its test's model trainer
  libsentencepiece-dev python3-sentencepiece
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
