# inferd: the two set-up commands are `make serve` and `make test` (see README.md).
# Every target installs what is missing first, so both work on a fresh Debian bookworm machine.

BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
HTTP_PORT ?= 8000
CMAKE_ARGS ?=
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 30

.PHONY: all deps build serve test unit-test integration-test check-thread-safety test-asan test-tsan \
	fuzz models clean image image-test bench-predict

all: build

deps:
	scripts/install-deps.sh
	scripts/fetch-onnxruntime.sh

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DINFERD_WERROR=ON $(CMAKE_ARGS)

build: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

# Builds, then serves the bundled example models on http://127.0.0.1:$(HTTP_PORT).
serve: build
	$(BUILD_DIR)/apps/inferd/inferd serve --model-repository examples/models --http-port $(HTTP_PORT)

# Builds, then runs every test: unit tests and integration tests against the real server.
test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)

unit-test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS) -E integration

integration-test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -R integration

# Compiles inferd with clang's -Wthread-safety as errors: the GUARDED_BY / REQUIRES / EXCLUDES
# annotations on every Mutex are checked by the compiler (see src/core/mutex.h).
check-thread-safety: deps
	cmake -S . -B build-tsa -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang \
	  -DCMAKE_CXX_FLAGS="-Wthread-safety" -DINFERD_WERROR=ON -DINFERD_BUILD_TESTS=OFF $(CMAKE_ARGS)
	cmake --build build-tsa -j $(JOBS) --target inferd

# Unit tests and the integration suite built with clang's ASan + UBSan (CMakePresets.json "asan",
# build-asan/); any sanitizer report fails. ONNX Runtime's own library is not instrumented.
test-asan: deps
	cmake --preset asan $(CMAKE_ARGS)
	cmake --build --preset asan -j $(JOBS)
	ctest --preset asan -j $(JOBS)

# The scheduling and repository unit tests (the threaded code) under TSan (preset "tsan",
# build-tsan/); only their two test executables are built.
test-tsan: deps
	cmake --preset tsan $(CMAKE_ARGS)
	cmake --build --preset tsan -j $(JOBS)
	ctest --preset tsan -j $(JOBS)

# Builds the libFuzzer targets (fuzz/, clang + ASan/UBSan, build-fuzz/) and runs each for
# FUZZ_SECONDS seconds on its seed corpus; fails on a crash (see docs/security.md).
fuzz: deps
	FUZZ_JOBS=$(JOBS) scripts/fuzz.sh $(FUZZ_SECONDS)

# Regenerates the example models (deterministic; needs python3-onnx, python3-numpy and
# python3-torch).
models: deps
	/usr/bin/python3 scripts/make_models.py --examples examples/models
	/usr/bin/python3 scripts/make_torch_models.py --examples examples/models

# The OCI image (deploy/image/build.sh): a Debian root filesystem from this machine's apt sources
# (mmdebstrap) plus inferd, its ONNX Runtime plugin and the examples, imported with podman as
# localhost/inferd:latest. Slow and needs network access to the mirror: not part of `make test`.
image: build
	nice deploy/image/build.sh $(BUILD_DIR) localhost/inferd:latest

# Serves the examples from that image with podman (PODMAN_RUNTIME=runc where crun cannot run).
image-test:
	/usr/bin/python3 -m pytest -q -s deploy/image/test_image.py

clean:
	rm -rf $(BUILD_DIR)

# Batch prediction measured (docs/performance.md, "Batch prediction"): `inferd predict` in-process
# ÷ raw ONNX Runtime at its best batch, and against a server ÷ in-process, in one run. A
# measurement, not a test: BENCH_PREDICT_ROWS rows (default 50000) of mlp_wide.
bench-predict: build
	BUILD_DIR=$(BUILD_DIR) /usr/bin/python3 bench/run.py predict
