#!/bin/sh
# Builds the inferd OCI image without a container registry: a Debian bookworm root filesystem
# from the apt sources this machine uses (mmdebstrap, minbase variant, plus exactly the packages
# that hold the shared libraries inferd and its ONNX Runtime plugin link against), the inferd
# binary, the plugin, ONNX Runtime and the example models under /opt/inferd, imported with podman.
#
#   deploy/image/build.sh [BUILD_DIR] [IMAGE]
#   (make image; defaults: build, localhost/inferd:latest)
#
# Needs mmdebstrap and podman (Debian packages), root or a user namespace, and network access to
# the apt mirror. Slow (minutes): run it niced. The TorchScript plugin is left out (libtorch would
# multiply the size); so is the example that needs it.
set -eu

BUILD_DIR=${1:-build}
IMAGE=${2:-localhost/inferd:latest}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${IMAGE_OUT:-$ROOT/$BUILD_DIR/image}
SOURCES=${APT_SOURCES:-/etc/apt/sources.list.d/debian.sources}
INFERD=$ROOT/$BUILD_DIR/apps/inferd/inferd
PLUGIN=$ROOT/$BUILD_DIR/backends/libinferd_backend_onnxruntime.so
ORT_LIB=$ROOT/third_party/onnxruntime/lib

for tool in mmdebstrap podman dpkg-query ldd; do
  command -v "$tool" >/dev/null ||
    { echo "image: $tool not found (apt-get install mmdebstrap podman)" >&2; exit 1; }
done
for f in "$INFERD" "$PLUGIN" "$SOURCES"; do
  [ -e "$f" ] || { echo "image: $f not found (build first: make build)" >&2; exit 1; }
done

rm -rf "$OUT"
STAGE=$OUT/stage
mkdir -p "$STAGE/opt/inferd/bin" "$STAGE/opt/inferd/lib/inferd/backends" "$STAGE/opt/inferd/models"

# The Debian packages that own the libraries the binary and the plugin load (ONNX Runtime itself
# is not a Debian package: it is copied in).
packages=$(
  LD_LIBRARY_PATH=$ORT_LIB ldd "$INFERD" "$PLUGIN" | awk '/=> \// {print $3}' | sort -u |
  while read -r lib; do
    case "$lib" in "$ROOT"/*) continue ;; esac
    real=$(readlink -f "$lib")
    for p in "$lib" "$real" "/usr$lib" "/usr$real" "${lib#/usr}" "${real#/usr}"; do
      owner=$(dpkg-query -S "$p" 2>/dev/null | head -n1 | cut -d: -f1)
      if [ -n "$owner" ]; then echo "$owner"; break; fi
    done
  done | sort -u | tr '\n' ',' | sed 's/,$//')
echo "image: runtime packages: $packages"

objcopy --strip-debug "$INFERD" "$STAGE/opt/inferd/bin/inferd"
objcopy --strip-debug "$PLUGIN" "$STAGE/opt/inferd/lib/inferd/backends/$(basename "$PLUGIN")"
cp -a "$ORT_LIB"/libonnxruntime.so* "$STAGE/opt/inferd/lib/"
for m in "$ROOT"/examples/models/*/; do
  name=$(basename "$m")
  [ "$name" = mlp_torch ] && continue  # needs the TorchScript plugin, not in this image
  cp -a "$m" "$STAGE/opt/inferd/models/$name"
done
chmod -R a+rX "$STAGE/opt"

mmdebstrap --variant=minbase --include="$packages" \
  --aptopt='APT::Install-Recommends "false"' \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
  --customize-hook="copy-in $STAGE/opt /" \
  --customize-hook='rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/* "$1"/var/log/*' \
  bookworm "$OUT/rootfs.tar" "$SOURCES"

podman import \
  --change 'ENTRYPOINT ["/opt/inferd/bin/inferd"]' \
  --change 'CMD ["serve", "--model-repository", "/opt/inferd/models", "--host", "0.0.0.0"]' \
  --change 'ENV LD_LIBRARY_PATH=/opt/inferd/lib' \
  --change 'USER 65534' \
  --change 'EXPOSE 8000' --change 'EXPOSE 8001' \
  "$OUT/rootfs.tar" "$IMAGE"

echo "image: $IMAGE; root filesystem $(du -h "$OUT/rootfs.tar" | cut -f1)B (tar);" \
  "podman reports $(podman image inspect --format '{{.Size}}' "$IMAGE") bytes"
