#!/usr/bin/env bash
# Builds the gateway for deployment and writes a tarball:
#
#   scripts/package-gateway.sh            # → .build/package/icws-gateway-<version>-linux-<arch>.tar.gz
#
# The binary is `icws` built in release mode with the Swift standard library, Foundation and
# every package linked statically (--static-swift-stdlib), so the target machine needs no Swift
# toolchain: only glibc, libstdc++ and CA certificates (packaging/gateway/runtime-packages,
# which the Dockerfile installs too). The tarball holds:
#
#   icws-gateway-<version>/bin/icws                   the CLI (`icws gateway`, also `icws replica`, …)
#   icws-gateway-<version>/icws-gateway.service       systemd unit, hardened (DynamicUser, ProtectSystem=strict, …)
#   icws-gateway-<version>/icws-gateway.env           example configuration (EnvironmentFile / docker --env-file)
#   icws-gateway-<version>/runtime-packages           the Debian packages the binary needs at run time
#   icws-gateway-<version>/SHA256SUMS
#
# The Dockerfile builds the same binary with the same flags; scripts/check-dockerfile.sh keeps
# the two in step, and scripts/check-gateway-rootfs.sh runs the packaged binary on a clean
# Debian root filesystem without the toolchain.
set -euo pipefail
cd "$(dirname "$0")/.."

# The one definition of the release build; the Dockerfile's `RUN swift build` line must say the
# same (checked by scripts/check-dockerfile.sh). --strip-debug drops the DWARF (about two thirds
# of the file) but keeps the symbol table, so crash backtraces still name functions.
SWIFT_BUILD_FLAGS="-c release --product icws --static-swift-stdlib -Xlinker --strip-debug"
# The files that ship beside the binary (the Dockerfile copies from the same folder).
RUNTIME_FILES=(packaging/gateway/icws-gateway.service packaging/gateway/icws-gateway.env packaging/gateway/runtime-packages)

out=${ICWS_PACKAGE_DIR:-.build/package}
version=$(git describe --always --dirty 2>/dev/null || echo unknown)
arch=$(uname -m)
name="icws-gateway-$version"

echo "package: swift build $SWIFT_BUILD_FLAGS" >&2
# Progress on stderr: stdout is only the tarball's path (.ci/run captures it).
# shellcheck disable=SC2086 # the flags are words
swift build $SWIFT_BUILD_FLAGS >&2
# shellcheck disable=SC2086
bin=$(swift build $SWIFT_BUILD_FLAGS --show-bin-path)

staging="$out/$name"
rm -rf "$staging"
mkdir -p "$staging/bin"
install -m 0755 "$bin/icws" "$staging/bin/icws"
for file in "${RUNTIME_FILES[@]}"; do install -m 0644 "$file" "$staging/"; done

# The binary must not need the toolchain's shared libraries: fail here, not on a server.
if ldd "$staging/bin/icws" | grep -E 'libswift|libFoundation|lib_Foundation|libdispatch|libBlocksRuntime|not found'; then
    echo "package: ERROR: bin/icws links the libraries above dynamically; it would not run without the Swift toolchain" >&2
    exit 1
fi
"$staging/bin/icws" --help > /dev/null

(cd "$staging" && sha256sum bin/icws "${RUNTIME_FILES[@]##*/}" > SHA256SUMS)
tarball="$out/$name-linux-$arch.tar.gz"
# Reproducible archive: fixed owner, order and times.
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime='2026-01-01 00:00Z' \
    -C "$out" -czf "$tarball" "$name"
echo "package: $(du -h "$staging/bin/icws" | cut -f1) binary, $(du -h "$tarball" | cut -f1) tarball" >&2
echo "$tarball"
