#!/usr/bin/env bash
# Lays out an ONNX Runtime GPU tree (include/, lib/) for scripts/gpu-check.sh and
# `cmake -DONNXRUNTIME_ROOT=`: ONNX Runtime 1.29.0 with its CUDA and TensorRT execution
# providers, all from the npm registry (a plain `npm pack` download, no install scripts), every
# file checked against a pinned sha256:
#   - lib/libonnxruntime.so.1: Microsoft's official Linux x64 build inside onnxruntime-node@1.29.0
#     (built with the shared-provider bridge: it lists CUDA and TensorRT and loads them on use);
#   - lib/libonnxruntime_providers_{shared,cuda,tensorrt}.so: the 1.29.0 providers, built for
#     CUDA 13 and cuDNN 9, from com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9;
#   - include/: the API-29 headers scripts/fetch-onnxruntime.sh already fetches.
# The machine that runs it needs the NVIDIA driver, CUDA 13 (libcudart.so.13, libcublas.so.13,
# libcublasLt.so.13, libcurand.so.10) and cuDNN 9 on the loader path. About 330 MB of
# downloads. Usage: fetch-onnxruntime-gpu.sh [DEST] (default third_party/onnxruntime-gpu).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="${1:-$ROOT/third_party/onnxruntime-gpu}"

CORE_PKG="onnxruntime-node@1.29.0"
CORE_PATH="package/bin/napi-v6/linux/x64/libonnxruntime.so.1"
CORE_SHA256="89688f5cf51c7e31befbb7b9101bc027799009b18d1baa9a5b1146a72e69538d"
EP_PKG="com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9"
EP_DIR="package/Plugins/Linux/x64"
declare -A PROVIDERS=(
  [libonnxruntime_providers_shared.so]=c6a12593396095f5670160e284c35d1700b7708cf3037b7042e2a5200ccae772
  [libonnxruntime_providers_cuda.so]=56cf3254b118ad837ccc4ed8f6d1b23504bbf7ef91b34cbc0b289cb7f10b3037
  [libonnxruntime_providers_tensorrt.so]=ef6071798a339038ad66c428fb1a809cf8e499bffc3b6870e4e8bc4f4c6a6320
)

check() {  # check FILE SHA256
  echo "$2  $1" | sha256sum --quiet -c - >/dev/null 2>&1
}

complete() {
  check "$DEST/lib/libonnxruntime.so.1" "$CORE_SHA256" || return 1
  for p in "${!PROVIDERS[@]}"; do check "$DEST/lib/$p" "${PROVIDERS[$p]}" || return 1; done
  [ -f "$DEST/include/onnxruntime_cxx_api.h" ] && [ -L "$DEST/lib/libonnxruntime.so" ]
}

if complete; then
  echo "fetch-onnxruntime-gpu: $DEST already holds ONNX Runtime 1.29.0 with CUDA and TensorRT"
  exit 0
fi
command -v npm >/dev/null || { echo "fetch-onnxruntime-gpu: npm not found" >&2; exit 1; }
"$ROOT/scripts/fetch-onnxruntime.sh" >/dev/null  # the headers

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
echo "fetch-onnxruntime-gpu: npm pack $CORE_PKG $EP_PKG"
npm pack --silent "$CORE_PKG" "$EP_PKG" >/dev/null
tar xzf onnxruntime-node-1.29.0.tgz "$CORE_PATH"
tar xzf com.github.asus4.onnxruntime.linux-x64-gpu-0.4.9.tgz "$EP_DIR"
check "$CORE_PATH" "$CORE_SHA256" || { echo "fetch-onnxruntime-gpu: sha256 mismatch for $CORE_PATH" >&2; exit 1; }
for p in "${!PROVIDERS[@]}"; do
  check "$EP_DIR/$p" "${PROVIDERS[$p]}" || { echo "fetch-onnxruntime-gpu: sha256 mismatch for $p" >&2; exit 1; }
done

rm -rf "$DEST"
mkdir -p "$DEST/lib"
cp -r "$ROOT/third_party/onnxruntime/include" "$DEST/include"
install -m 0755 "$CORE_PATH" "$DEST/lib/libonnxruntime.so.1"
ln -s libonnxruntime.so.1 "$DEST/lib/libonnxruntime.so"
for p in "${!PROVIDERS[@]}"; do install -m 0755 "$EP_DIR/$p" "$DEST/lib/$p"; done
echo "1.29.0" > "$DEST/VERSION_NUMBER"
echo "fetch-onnxruntime-gpu: ONNX Runtime 1.29.0 (CUDA 13, TensorRT providers) laid out in $DEST"
