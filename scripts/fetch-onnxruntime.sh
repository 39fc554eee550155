#!/usr/bin/env bash
# Lays out third_party/onnxruntime/{include,lib} like an official ONNX Runtime release.
#
# The library is Microsoft's official Linux x64 build shipped inside the npm package
# onnxruntime-node; the C/C++ headers of the matching API version come from a Unity package
# that ships them. Both are fetched with `npm pack` (a plain tarball download: no install, no
# postinstall scripts) and every extracted file is checked against a pinned sha256.
# Skips all work when the tree is already complete. Usage: fetch-onnxruntime.sh [DEST]
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="${1:-$ROOT/third_party/onnxruntime}"

ORT_VERSION="1.30.0"
LIB_PKG="onnxruntime-node@${ORT_VERSION}"
LIB_PATH="package/bin/napi-v6/linux/x64/libonnxruntime.so.1"
LIB_SHA256="ffb75a925ba05e47b235bb66e3e3911714a80b328a9c9425539feb204aa32a23"

HDR_PKG="com.github.asus4.onnxruntime@0.4.9"
HDR_DIR="package/Plugins/iOS~/onnxruntime.xcframework/ios-arm64/onnxruntime.framework/Headers"
# header -> sha256 (API version 29, served by the 1.30 library)
declare -A HEADERS=(
  [onnxruntime_c_api.h]=acc0cf4b3f28d39339c76770d76164bb7a0637dc89f5fde764b4017b632f6743
  [onnxruntime_cxx_api.h]=9c63ed5bf0427ddf1c10a99aca0beeec77318ce77d2ea6f7ae76d7d933660f67
  [onnxruntime_cxx_inline.h]=c508dbb7d8203003a2584b8712118cb88e5b4ef1e1c7876a9974156fb7489301
  [onnxruntime_float16.h]=88b242845d25981633a0bbd1c148e273cf8bfb016ea3f57c4af41a06530f72b0
  [onnxruntime_ep_c_api.h]=e6c986c9e98583f8113b2c6bc3864814883b806d501cf24da4d239c45753e235
  [onnxruntime_error_code.h]=5ce3b054e798eced8d14f5b86e98692fd33470463f96194ce0700a2d53dd8721
  [onnxruntime_run_options_config_keys.h]=973037c14b0f1af0854ae25cd676776f79dbcfd2a6791f6ee17a5374c2a62550
  [onnxruntime_session_options_config_keys.h]=febf1052ee15e56ce136c41d028938d04b3e217bd4820dcafcb9bcd0f4f2c5ea
  [onnxruntime_env_config_keys.h]=2d531fef7dd4ffd22f35d219e1a795dbaa1c94a4a7fd29397c0982232e4ca332
  [onnxruntime_lite_custom_op.h]=5ac84897a95ee5fa5b5bbbeb84dd51f0768e83b293716b147f114e63b28fdf85
  [onnxruntime_ep_device_ep_metadata_keys.h]=422f5ec1866e0ee522dcb3b2a7d2388f068bc0d8775a9941979b79ca7e5876a0
  [cpu_provider_factory.h]=0de52d129c718c07ee71a16b4953d8d483df019746a11caad77a0650a2f4ed47
)

check() {  # check FILE SHA256
  echo "$2  $1" | sha256sum --quiet -c - >/dev/null 2>&1
}

complete() {
  check "$DEST/lib/libonnxruntime.so.1" "$LIB_SHA256" || return 1
  for h in "${!HEADERS[@]}"; do check "$DEST/include/$h" "${HEADERS[$h]}" || return 1; done
  [ -L "$DEST/lib/libonnxruntime.so" ] || return 1
}

if complete; then
  echo "fetch-onnxruntime: $DEST already holds ONNX Runtime $ORT_VERSION"
  exit 0
fi

command -v npm >/dev/null || { echo "fetch-onnxruntime: npm not found (it comes with the machine image)" >&2; exit 1; }

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
echo "fetch-onnxruntime: npm pack $LIB_PKG $HDR_PKG"
npm pack --silent "$LIB_PKG" "$HDR_PKG" >/dev/null
tar xzf onnxruntime-node-${ORT_VERSION}.tgz "$LIB_PATH"
tar xzf com.github.asus4.onnxruntime-0.4.9.tgz "$HDR_DIR"

check "$LIB_PATH" "$LIB_SHA256" || { echo "fetch-onnxruntime: sha256 mismatch for $LIB_PATH" >&2; exit 1; }
for h in "${!HEADERS[@]}"; do
  check "$HDR_DIR/$h" "${HEADERS[$h]}" || { echo "fetch-onnxruntime: sha256 mismatch for $h" >&2; exit 1; }
done

rm -rf "$DEST"
mkdir -p "$DEST/include" "$DEST/lib"
install -m 0755 "$LIB_PATH" "$DEST/lib/libonnxruntime.so.1"
ln -s libonnxruntime.so.1 "$DEST/lib/libonnxruntime.so"
for h in "${!HEADERS[@]}"; do install -m 0644 "$HDR_DIR/$h" "$DEST/include/$h"; done
echo "$ORT_VERSION" > "$DEST/VERSION_NUMBER"
echo "fetch-onnxruntime: ONNX Runtime $ORT_VERSION laid out in $DEST"
