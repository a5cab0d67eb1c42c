#!/usr/bin/env bash
# Checks, without a container engine, that the Dockerfile builds and ships what
# scripts/package-gateway.sh packages, so that the two cannot drift apart:
#
#   scripts/check-dockerfile.sh              # checks ./Dockerfile
#   scripts/check-dockerfile.sh --self-test  # also shows that each check fails on a broken copy
#
# 1. every `swift build` in the Dockerfile uses exactly the packaging script's SWIFT_BUILD_FLAGS;
# 2. the builder image's Swift is the toolchain's major.minor, on the Debian release of the
#    runtime image, which is the release scripts/check-gateway-rootfs.sh tests the binary on;
# 3. the runtime image installs packaging/gateway/runtime-packages (what the rootfs check installs);
# 4. every file the runtime image copies from the context ships in the tarball (RUNTIME_FILES),
#    and the binary it copies from the builder is the product the flags build;
# 5. it runs as a non-root user, ENTRYPOINT is that binary, and the only place it writes (the
#    identity key's folder) is a VOLUME, so `docker run --read-only` works; the systemd unit's
#    StateDirectory and the example config agree on that folder;
# 6. every ICWS_* variable the Dockerfile and the example config set is one `icws gateway` reads.
set -euo pipefail
cd "$(dirname "$0")/.."

dockerfile=${DOCKERFILE:-Dockerfile}
package_script=scripts/package-gateway.sh
rootfs_script=scripts/check-gateway-rootfs.sh
env_file=packaging/gateway/icws-gateway.env
unit=packaging/gateway/icws-gateway.service

if [ "${1:-}" = "--self-test" ]; then
    # Each broken copy must be refused: the checks can fail.
    scratch=$(mktemp -d)
    trap 'rm -rf "$scratch"' EXIT
    mutations=(
        's/--static-swift-stdlib -Xlinker --strip-debug \\/-Xlinker --strip-debug \\/'
        's/^FROM swift:6\.3-bookworm/FROM swift:6.1-bookworm/'
        's/^FROM debian:bookworm-slim/FROM debian:trixie-slim/'
        's/^USER 10001:10001/USER root/'
        's|^VOLUME .*|VOLUME ["/data"]|'
        's|ICWS_LOG_FORMAT=json|ICWS_LOG_FORMATTING=json|'
        's|^COPY packaging/gateway/icws-gateway.env|COPY README.md|'
        's|/usr/share/icws-gateway/runtime-packages)|/usr/share/icws-gateway/runtime-packages) curl|'
    )
    "$0" > /dev/null
    for mutation in "${mutations[@]}"; do
        sed "$mutation" "$dockerfile" > "$scratch/Dockerfile"
        if cmp -s "$dockerfile" "$scratch/Dockerfile"; then
            echo "check-dockerfile self-test: the mutation '$mutation' changed nothing; fix the self-test" >&2
            exit 1
        fi
        if DOCKERFILE="$scratch/Dockerfile" "$0" > "$scratch/out" 2>&1; then
            echo "check-dockerfile self-test: a Dockerfile broken by '$mutation' passed the check" >&2
            exit 1
        fi
        echo "self-test: refused as it should ($mutation): $(grep -m1 'ERROR' "$scratch/out" | sed 's/^check-dockerfile: //')"
    done
    echo "check-dockerfile self-test: all ${#mutations[@]} broken copies refused"
    exit 0
fi

failures=0
fail() {
    echo "check-dockerfile: ERROR: $*" >&2
    failures=$((failures + 1))
}
ok() { echo "check-dockerfile: ok: $*"; }

# Dockerfile lines with their continuations joined.
joined=$(sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$dockerfile" | tr -s ' ')

# 1. Build flags.
flags=$(sed -n 's/^SWIFT_BUILD_FLAGS="\(.*\)"$/\1/p' "$package_script")
[ -n "$flags" ] || fail "no SWIFT_BUILD_FLAGS=\"…\" line in $package_script"
builds=$(grep -o 'swift build [^"&)]*' <<< "$joined" | sed 's/ *$//; s/ --show-bin-path$//' || true)
[ -n "$builds" ] || fail "the Dockerfile runs no 'swift build'"
while IFS= read -r build; do
    [ -z "$build" ] && continue
    if [ "$build" = "swift build $flags" ]; then ok "'$build' matches $package_script"; else
        fail "the Dockerfile runs '$build' but $package_script builds with 'swift build $flags'"
    fi
done <<< "$builds"
product=$(sed -n 's/.*--product \([^ ]*\).*/\1/p' <<< "$flags")

# 2. Images: Swift version and Debian release.
suite=$(sed -n 's/^DEBIAN_SUITE=\([a-z]*\).*/\1/p' "$rootfs_script")
[ -n "$suite" ] || fail "no DEBIAN_SUITE= line in $rootfs_script"
builder=$(sed -n 's/^FROM \([^ ]*\) AS builder$/\1/p' "$dockerfile")
runtime=$(grep '^FROM ' "$dockerfile" | tail -1 | awk '{print $2}')
toolchain=$(swift --version 2>&1 | sed -n 's/.*Swift version \([0-9]*\.[0-9]*\).*/\1/p' | head -1)
case "$builder" in
    "swift:$toolchain-$suite" | "swift:$toolchain."*"-$suite") ok "builder image $builder (toolchain $toolchain, $suite)" ;;
    *) fail "builder image '$builder' is not Swift $toolchain on $suite (the toolchain CI packages with, the release the rootfs check uses)" ;;
esac
[ "$runtime" = "debian:$suite-slim" ] && ok "runtime image $runtime" || fail "runtime image '$runtime' is not debian:$suite-slim"

# 3. Runtime packages.
if grep -q '^COPY packaging/gateway/runtime-packages /usr/share/icws-gateway/runtime-packages$' "$dockerfile" \
    && grep -q "apt-get install -y --no-install-recommends \$(grep -v '^#' /usr/share/icws-gateway/runtime-packages) &&" <<< "$joined"; then
    ok "runtime packages from packaging/gateway/runtime-packages: $(grep -v '^#' packaging/gateway/runtime-packages | tr '\n' ' ')"
else
    fail "the runtime image must install exactly packaging/gateway/runtime-packages (COPY it, then apt-get install \$(grep -v '^#' …))"
fi

# 4. Files: every COPY from the context ships in the tarball; the builder's binary is the product.
shipped=$(sed -n '/^RUNTIME_FILES=(/s/^RUNTIME_FILES=(\(.*\))$/\1/p' "$package_script")
while read -r source _; do
    if [[ " $shipped " == *" $source "* ]]; then ok "COPY $source ships in the tarball too"; else
        fail "the image copies '$source', which $package_script does not ship (RUNTIME_FILES: $shipped)"
    fi
done < <(sed -n 's/^COPY \([^-][^ ]*\) \(.*\)$/\1 \2/p' "$dockerfile" | grep -v '^\. ')
grep -q "install -D -m 0755 \"\$(swift build $flags --show-bin-path)/$product\" /out/$product" <<< "$joined" \
    || fail "the builder must install \$(swift build $flags --show-bin-path)/$product as /out/$product"
binary=$(sed -n "s|^COPY --from=builder /out/$product \(.*\)$|\1|p" "$dockerfile")
[ -n "$binary" ] && ok "the image's binary $binary is the builder's $product" || fail "no 'COPY --from=builder /out/$product …' line"

# 5. Non-root, entrypoint, read-only root filesystem.
user=$(sed -n 's/^USER \(.*\)$/\1/p' "$dockerfile" | tail -1)
if [[ "$user" =~ ^[1-9][0-9]*(:[1-9][0-9]*)?$ ]]; then ok "runs as uid:gid $user"; else fail "USER '$user' must be a numeric non-root uid[:gid]"; fi
grep -q "^ENTRYPOINT \[\"$binary\"\]$" "$dockerfile" && ok "ENTRYPOINT $binary" || fail "ENTRYPOINT must be [\"$binary\"]"
key_path=$(grep -o 'ICWS_IDENTITY_PEM_PATH=[^ ]*' <<< "$joined" | head -1 | cut -d= -f2)
state=$(dirname "${key_path:-/missing/x}")
grep -q "^VOLUME \[\"$state\"\]$" "$dockerfile" && ok "the identity key's folder $state is a VOLUME" \
    || fail "the identity key ($key_path) must live in a VOLUME (VOLUME [\"$state\"]): the root filesystem is read-only"
grep -q "^ICWS_IDENTITY_PEM_PATH=$key_path$" "$env_file" || fail "$env_file must keep the identity key at $key_path too"
grep -q "^StateDirectory=$(basename "$state")$" "$unit" || fail "$unit's StateDirectory must be $(basename "$state") (the key lives in $state)"

# 6. Variables the gateway really reads.
sources=(Sources/icws/GatewayCommand.swift Sources/icws/GatewayTuningOptions.swift)
for variable in $( (grep -o 'ICWS_[A-Z_]*=' <<< "$joined"; grep -o '^#\?ICWS_[A-Z_]*=' "$env_file" | tr -d '#') | tr -d '=' | sort -u); do
    grep -q "\"$variable\"" "${sources[@]}" || fail "$variable (set in the Dockerfile or $env_file) is read by no flag of icws gateway"
done

if [ "$failures" -gt 0 ]; then
    echo "check-dockerfile: $failures problem(s); the Dockerfile and $package_script disagree" >&2
    exit 1
fi
echo "check-dockerfile: the Dockerfile builds and ships what $package_script packages"
