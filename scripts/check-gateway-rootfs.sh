#!/usr/bin/env bash
# Runs the packaged gateway on a clean Debian root filesystem that has no Swift toolchain, the
# way a server or the Docker image runs it:
#
#   scripts/check-gateway-rootfs.sh .build/package/icws-gateway-*-linux-x86_64.tar.gz
#   scripts/check-gateway-rootfs.sh --rootfs-only      # only create (or reuse) the root filesystem
#
# The root filesystem is `debootstrap --variant=minbase` of DEBIAN_SUITE (the Dockerfile's
# runtime release; scripts/check-dockerfile.sh checks they agree) plus
# packaging/gateway/runtime-packages, cached in .build/rootfs-<suite> (ICWS_ROOTFS_DIR). In a
# private mount namespace it is mounted read-only, with /proc, /dev and a tmpfs for the state
# folder only (as `docker run --read-only -v …:/var/lib/icws-gateway`), and everything runs in
# it as uid 10001 (the image's user). Checked:
#   1. no Swift runtime exists in the root filesystem, and `ldd` finds every library of bin/icws;
#   2. `icws --help` and `icws gateway --help` run;
#   3. `icws gateway`, configured by the tarball's example config, started with nothing at its IC
#      URL: it listens, GET /healthz is 200 and GET /readyz is 503 naming the unreachable IC;
#   4. `icws replica` (same binary) started next: /readyz turns 200 (root key fetched), plain
#      GET / on the WebSocket port answers, the identity key was written to the state folder;
#   5. SIGTERM: /readyz is 503 "shutting down" at once, the process exits 0 after the drain.
# Needs root (debootstrap, chroot, mounts) and debootstrap, curl, unshare (.ci/run installs them).
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_SUITE=bookworm
mirror=${ICWS_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# Absolute: the processes below run from / inside it.
rootfs=$(realpath -m "${ICWS_ROOTFS_DIR:-.build/rootfs-$DEBIAN_SUITE}")
uid=10001

die() {
    echo "check-gateway-rootfs: ERROR: $*" >&2
    exit 1
}
say() { echo "check-gateway-rootfs: $*" >&2; }

[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot and mount); run it as root or in CI"
for tool in debootstrap chroot unshare curl tar; do
    command -v "$tool" > /dev/null || die "$tool is missing (apt-get install -y debootstrap curl util-linux)"
done

packages=$(grep -v '^#' packaging/gateway/runtime-packages | paste -sd, -)
marker="$rootfs/.icws-rootfs"
if [ ! -f "$marker" ] || [ "$(cat "$marker")" != "$DEBIAN_SUITE $packages" ]; then
    say "creating a clean $DEBIAN_SUITE root filesystem (minbase + $packages) in $rootfs"
    rm -rf "$rootfs"
    mkdir -p "$(dirname "$rootfs")"
    debootstrap --variant=minbase --include="$packages" "$DEBIAN_SUITE" "$rootfs" "$mirror" > "$rootfs.log" 2>&1 \
        || die "debootstrap failed; its log: $rootfs.log ($(tail -3 "$rootfs.log" | tr '\n' ' '))"
    rm -rf "$rootfs/var/cache/apt/archives/"*.deb
    echo "$DEBIAN_SUITE $packages" > "$marker"
else
    say "reusing the root filesystem in $rootfs"
fi
[ "${1:-}" = "--rootfs-only" ] && exit 0

tarball=${1:?usage: check-gateway-rootfs.sh TARBALL (from scripts/package-gateway.sh)}
[ -f "$tarball" ] || die "no tarball at $tarball"

# 1. The root filesystem has no Swift, and the binary's libraries are all there.
swift_files=$(find "$rootfs" \( -name 'libswiftCore.so*' -o -name 'libFoundation*.so*' -o -name 'swift' -o -name 'swiftc' \) -print | head -5)
[ -z "$swift_files" ] || die "the root filesystem is not clean, it has: $swift_files"
rm -rf "$rootfs/opt/icws-gateway"
mkdir -p "$rootfs/opt/icws-gateway" "$rootfs/var/lib/icws-gateway"
tar -xzf "$tarball" -C "$rootfs/opt/icws-gateway" --strip-components=1
libraries=$(chroot "$rootfs" /usr/bin/ldd /opt/icws-gateway/bin/icws) || die "ldd failed in the root filesystem"
say "bin/icws needs, in the clean root filesystem:"
sed 's/^/    /' <<< "$libraries" >&2
if grep -q 'not found' <<< "$libraries"; then die "libraries missing on a clean $DEBIAN_SUITE"; fi
if grep -qi 'swift\|foundation\|dispatch' <<< "$libraries"; then die "bin/icws links a Swift runtime library dynamically"; fi

port() { echo $((20000 + RANDOM % 20000)); }
ws_port=$(port)
metrics_port=$(port)
replica_port=$(port)

# 2–5 in a private mount namespace: the root filesystem read-only, as in a container.
export rootfs uid ws_port metrics_port replica_port
unshare --mount --propagation private --fork bash -euo pipefail -c '
    fail() { echo "check-gateway-rootfs: ERROR: $*" >&2; exit 1; }
    say() { echo "check-gateway-rootfs: $*" >&2; }
    mount --bind "$rootfs" "$rootfs"
    mount -o remount,bind,ro "$rootfs"
    mount -t proc proc "$rootfs/proc"
    mount --rbind /dev "$rootfs/dev"
    mount -t tmpfs -o "mode=0700,uid=$uid,gid=$uid" state "$rootfs/var/lib/icws-gateway"
    touch "$rootfs/probe" 2> /dev/null && fail "the root filesystem is writable; the check must run read-only"
    run() { chroot --userspec="$uid:$uid" "$rootfs" /usr/bin/env -i HOME=/var/lib/icws-gateway "$@"; }
    # In the background: exec, so that $! is the icws process itself (chroot and env exec too)
    # and SIGTERM reaches it.
    start() { cd / && exec chroot --userspec="$uid:$uid" "$rootfs" /usr/bin/env -i HOME=/var/lib/icws-gateway "$@"; }

    # 2.
    run /opt/icws-gateway/bin/icws --help > /dev/null || fail "icws --help failed"
    help=$(run /opt/icws-gateway/bin/icws gateway --help) || fail "icws gateway --help failed"
    grep -q -- "--readiness-drain-delay" <<< "$help" || fail "icws gateway --help does not list --readiness-drain-delay: $help"
    say "icws --help and icws gateway --help run"

    # 3. The gateway, configured by the example config, with nothing at its IC URL.
    config=$(grep -v "^#" "$rootfs/opt/icws-gateway/icws-gateway.env" | grep .)
    log=$(mktemp)
    start $config ICWS_GATEWAY_ADDRESS=127.0.0.1:$ws_port ICWS_PROMETHEUS_ENDPOINT=127.0.0.1:$metrics_port \
        ICWS_IC_NETWORK_URL=http://127.0.0.1:$replica_port ICWS_ROOT_KEY=fetch ICWS_READINESS_DRAIN_DELAY=2 \
        /opt/icws-gateway/bin/icws gateway > "$log" 2>&1 &
    gateway=$!
    trap "kill \$gateway \${replica:-} 2> /dev/null || true" EXIT
    started=$(date +%s%N)
    until curl -fsS "http://127.0.0.1:$metrics_port/healthz" > /dev/null 2>&1; do
        kill -0 $gateway 2> /dev/null || fail "the gateway exited: $(tail -5 "$log")"
        [ $(( ($(date +%s%N) - started) / 1000000 )) -lt 20000 ] || fail "no /healthz within 20 s: $(tail -5 "$log")"
        sleep 0.1
    done
    say "gateway up in $(( ($(date +%s%N) - started) / 1000000 )) ms; GET /healthz: $(curl -sS "http://127.0.0.1:$metrics_port/healthz")"
    answer=$(curl -sS -w " %{http_code}" "http://127.0.0.1:$metrics_port/readyz")
    say "GET /readyz with nothing at the IC URL: $answer"
    [[ "$answer" == *" 503" && "$answer" == *"unreachable"* ]] || fail "/readyz should be 503 naming the unreachable IC, got: $answer"

    # 4. A replica (the same binary) comes up: readiness follows.
    start /opt/icws-gateway/bin/icws replica --port "$replica_port" --log-level warning > "$log.replica" 2>&1 &
    replica=$!
    for _ in $(seq 200); do
        answer=$(curl -sS -w " %{http_code}" "http://127.0.0.1:$metrics_port/readyz" || true)
        [[ "$answer" == *" 200" ]] && break
        sleep 0.1
    done
    say "GET /readyz with icws replica up: $answer"
    [[ "$answer" == *" 200" ]] || fail "/readyz never became 200: $answer; replica: $(tail -3 "$log.replica")"
    root=$(curl -sS -w " %{http_code}" "http://127.0.0.1:$ws_port/" || true)
    say "plain GET / on the WebSocket port: $root"
    [[ "$root" == *" 200" ]] || fail "the WebSocket port did not answer a plain GET /: $root; gateway log: $(tail -5 "$log")"
    key="$rootfs/var/lib/icws-gateway/key_pair.pem"
    [ -s "$key" ] || fail "the gateway wrote no identity key to /var/lib/icws-gateway"
    say "identity key written: /var/lib/icws-gateway/key_pair.pem ($(stat -c "%a %u" "$key"))"

    # 5. SIGTERM: readiness fails first, then the process drains and exits 0.
    kill -TERM $gateway
    sleep 0.3
    answer=$(curl -sS -w " %{http_code}" "http://127.0.0.1:$metrics_port/readyz" || true)
    say "GET /readyz right after SIGTERM: $answer"
    [[ "$answer" == *"shutting down"*" 503" ]] || fail "/readyz should be 503 shutting down during the drain, got: $answer"
    status=0
    wait $gateway || status=$?
    [ $status = 0 ] || fail "the gateway exited with $status after SIGTERM: $(tail -5 "$log")"
    say "exited 0 after SIGTERM"
'
say "the packaged gateway runs on a clean $DEBIAN_SUITE root filesystem without the Swift toolchain"
