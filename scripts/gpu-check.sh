#!/usr/bin/env bash
# GPU check of the ONNX Runtime execution providers: serves one ONNX model twice from one
# repository — on the CPU (KIND_CPU) and on the CUDA execution provider (KIND_GPU) — then checks
# that both give the same outputs (within a tolerance: CUDA may use TF32 for FP32 matmuls) and
# measures the throughput ratio GPU ÷ CPU with `inferd bench` (binary, batch 64).
#
# Needs an NVIDIA GPU with its driver, and an ONNX Runtime GPU tree (include/, lib/ with
# lib/libonnxruntime_providers_cuda.so) whose CUDA/cuDNN match the machine: an official
# onnxruntime-linux-x64-gpu-<version>.tgz release, or the tree scripts/fetch-onnxruntime-gpu.sh
# lays out from the npm registry (ORT 1.29.0, CUDA 13, cuDNN 9; the default here). Usage:
#
#   scripts/gpu-check.sh                                    # fetches third_party/onnxruntime-gpu
#   ONNXRUNTIME_ROOT=/opt/onnxruntime-linux-x64-gpu-1.30.0 scripts/gpu-check.sh
#
# Knobs: BUILD_DIR (default build-gpu), INFERD_BIN (an inferd already built against that
# release: skips the build), GPU (device id, default 0), DURATION (s per level,
# default 3), RTOL/ATOL (default 1e-2/1e-3), JOBS. Exits non-zero when the GPU model does not
# load (its reason is printed) or outputs differ.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
if [ -z "${ONNXRUNTIME_ROOT:-}" ]; then
  "$ROOT/scripts/fetch-onnxruntime-gpu.sh"
  ONNXRUNTIME_ROOT="$ROOT/third_party/onnxruntime-gpu"
fi
BUILD_DIR="${BUILD_DIR:-$ROOT/build-gpu}"
GPU="${GPU:-0}"
DURATION="${DURATION:-3}"
RTOL="${RTOL:-1e-2}"
ATOL="${ATOL:-1e-3}"
JOBS="${JOBS:-$(nproc)}"
PY=/usr/bin/python3

command -v nvidia-smi >/dev/null || { echo "gpu-check: no nvidia-smi: not an NVIDIA machine" >&2; exit 2; }
nvidia-smi --query-gpu=index,name,driver_version --format=csv,noheader
ls "$ONNXRUNTIME_ROOT"/lib/libonnxruntime_providers_cuda.so >/dev/null 2>&1 ||
  echo "gpu-check: warning: $ONNXRUNTIME_ROOT/lib has no libonnxruntime_providers_cuda.so" >&2

if [ -n "${INFERD_BIN:-}" ]; then
  INFERD="$INFERD_BIN"  # an inferd already built against $ONNXRUNTIME_ROOT
else
  echo "gpu-check: building inferd against $ONNXRUNTIME_ROOT in $BUILD_DIR"
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DONNXRUNTIME_ROOT="$ONNXRUNTIME_ROOT" -DINFERD_WITH_TORCH=OFF -DINFERD_BUILD_TESTS=OFF \
    >/dev/null
  cmake --build "$BUILD_DIR" -j "$JOBS" --target inferd
  INFERD="$BUILD_DIR/apps/inferd/inferd"
fi

WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# A compute-bound MLP (512 -> 2048 -> 2048 -> 10), the batching benchmark's mlp_large.
REPO="$WORK/models"
mkdir -p "$REPO/mlp_cpu/1" "$REPO/mlp_gpu/1"
"$PY" -c "import sys; sys.path.insert(0, '$ROOT/bench'); import run; import pathlib; run.write_mlp(pathlib.Path('$REPO/mlp_cpu/1/model.onnx'), [512, 2048, 2048, 10], 'mlp_large')"
cp "$REPO/mlp_cpu/1/model.onnx" "$REPO/mlp_gpu/1/model.onnx"
for kind in cpu gpu; do
  if [ "$kind" = gpu ]; then group="instance_group [ { kind: KIND_GPU gpus: [ $GPU ] } ]"
  else group="instance_group [ { kind: KIND_CPU } ]"; fi
  cat > "$REPO/mlp_$kind/config.pbtxt" <<CFG
backend: "onnxruntime"
max_batch_size: 64
$group
dynamic_batching { max_queue_delay_microseconds: 2000 }
CFG
done

PORT=$("$PY" -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
URL="http://127.0.0.1:$PORT"
"$INFERD" serve --model-repository "$REPO" --http-port "$PORT" --grpc-port 0 >"$WORK/inferd.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 300); do
  curl -sf "$URL/v2/health/live" >/dev/null && break
  sleep 0.1
done
sleep 1
"$PY" - "$URL" "$RTOL" "$ATOL" <<'PYEOF' || { echo "--- inferd log ---"; tail -40 "$WORK/inferd.log"; exit 1; }
import sys, requests, numpy as np
url, rtol, atol = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
index = {m["name"]: m for m in requests.post(f"{url}/v2/repository/index", timeout=60).json()}
for name in ("mlp_cpu", "mlp_gpu"):
    if index[name]["state"] != "READY":
        sys.exit(f"gpu-check: {name} is {index[name]['state']}: {index[name].get('reason')}")
meta = requests.get(f"{url}/v2/models/mlp_cpu", timeout=10).json()
inp, out = meta["inputs"][0], meta["outputs"][0]["name"]
x = np.random.RandomState(0).standard_normal((8, inp["shape"][1])).astype(np.float32)
body = {"inputs": [{"name": inp["name"], "datatype": "FP32", "shape": list(x.shape),
                    "data": x.flatten().tolist()}]}
res = {}
for name in ("mlp_cpu", "mlp_gpu"):
    r = requests.post(f"{url}/v2/models/{name}/infer", json=body, timeout=60)
    r.raise_for_status()
    o = next(o for o in r.json()["outputs"] if o["name"] == out)
    res[name] = np.array(o["data"], np.float32)
diff = np.abs(res["mlp_cpu"] - res["mlp_gpu"]).max()
print(f"gpu-check: outputs of {out}: max |cpu - gpu| = {diff:.3g}")
np.testing.assert_allclose(res["mlp_gpu"], res["mlp_cpu"], rtol=rtol, atol=atol)
print("gpu-check: outputs equal within tolerance")
PYEOF

for kind in cpu gpu; do
  "$INFERD" bench --url "$URL" --model "mlp_$kind" --binary --batch-size 64 --concurrency 1,8 \
    --duration "$DURATION" --warmup 1 --quiet --json "$WORK/bench_$kind.json"
done
"$PY" - "$WORK/bench_cpu.json" "$WORK/bench_gpu.json" <<'PYEOF'
import json, sys
cpu, gpu = (json.load(open(p))["levels"] for p in sys.argv[1:3])
print("| concurrency | CPU inferences/s | GPU inferences/s | GPU ÷ CPU | p50 CPU ms | p50 GPU ms |")
print("|---|---|---|---|---|---|")
for c, g in zip(cpu, gpu):
    print(f"| {c['concurrency']} | {c['throughput_rps'] * 64:.0f} | {g['throughput_rps'] * 64:.0f} | "
          f"{g['throughput_rps'] / c['throughput_rps']:.2f} | {c['latency_us']['p50'] / 1000:.2f} | "
          f"{g['latency_us']['p50'] / 1000:.2f} |")
PYEOF
grep -i "execution providers" "$WORK/inferd.log" || true
