#!/usr/bin/env bash
# Compares the pure-Swift BLS12381 module with blst (through the pyblst 0.3.15 bindings).
#
#   scripts/bench-bls-baseline.sh [iterations]
#
# Creates a temporary venv, installs pyblst, times the same operations as
# `swift run -c release icws-bench bls`, runs that too, and prints per operation the raw
# medians and the ratio Swift / blst. Python call overhead (~1 µs) is included in the blst
# figures; it is negligible except for the cheapest operations.
set -euo pipefail

ITERATIONS="${1:-100}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$(mktemp -d "${TMPDIR:-/tmp}/icws-pyblst.XXXXXX")"
trap 'rm -rf "$VENV"' EXIT

echo "== creating venv in $VENV and installing pyblst==0.3.15" >&2
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check pyblst==0.3.15

echo "== timing blst (pyblst)" >&2
BLST_JSON="$VENV/blst.jsonl"
"$VENV/bin/python" - "$ITERATIONS" > "$BLST_JSON" <<'PY'
import json, statistics, sys, time
import pyblst
from pyblst import BlstP1Element as P1, BlstP2Element as P2

n = int(sys.argv[1])
# Mainnet root key signing a delegation state root (bls_signatures.json, vb_valid_root_key).
sig = bytes.fromhex("ace9fcdd9bc977e05d6328f889dc4e7c99114c737a494653cb27a1f55c06f4555e0f160980af5ead098acc195010b2f7")
pk = bytes.fromhex("814c0e6ec71fab583b08bd81373c255c3c371b2e84863c98a4f1e08b74235d14fb5d9c0cd546d9685f913a0c0b2cc5341583bf4b4392e467db96d65b9bb4cb717112f8472e0d5a4d14505ffd7484b01291091c5f87b98883463f98091a0baaae")
msg = bytes.fromhex("0d69632d73746174652d726f6f74e6c01e909b4923345ce5970962bcfe3004bfd8474a21dae28f50692502f46d90")
dst = b"BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_"
g2 = P2.uncompress(bytes.fromhex(
    "93e02b6052719f607dacd3a088274f65596bd0d09920b61ab5da61bbdc7f5049334cf11213945d57e5ac7d055d042b7e"
    "024aa2b2f08f0a91260805272dc51051c6e47ad4fa403b02b4510b647ae3d1770bac0326a805bbefd48056c8c121bdb8"))
R = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001

def verify_ic():
    s = P1.uncompress(sig)          # checks the subgroup
    k = P2.uncompress(pk)           # checks the subgroup
    h = P1.hash_to_group(msg, dst)
    return pyblst.final_verify(pyblst.miller_loop(s, g2), pyblst.miller_loop(h, k))

if not verify_ic():
    sys.exit("blst does not verify the benchmark vector")

s = P1.uncompress(sig)
k = P2.uncompress(pk)
other = pyblst.miller_loop(s, k)
scalar = int.from_bytes(msg[:48], "big") % R
sk = int.from_bytes(msg[-32:], "big") % R

ops = [
    ("bls.verify_ic", verify_ic),
    ("bls.pairing", lambda: pyblst.final_verify(pyblst.miller_loop(s, k), other)),  # Miller loop + final exp
    ("bls.hash_to_g1", lambda: P1.hash_to_group(msg, dst)),
    ("bls.g1_decompress", lambda: P1.uncompress(sig)),
    ("bls.g2_decompress", lambda: P2.uncompress(pk)),
    ("bls.g1_scalar_mul", lambda: s.scalar_mul(scalar)),
    ("bls.sign", lambda: P1.hash_to_group(msg, dst).scalar_mul(sk).compress()),
]
for name, fn in ops:
    for _ in range(5):
        fn()
    samples = []
    for _ in range(n):
        t0 = time.perf_counter_ns()
        fn()
        samples.append((time.perf_counter_ns() - t0) / 1000)
    print(json.dumps({"name": name, "median_us": round(statistics.median(samples), 1)}))
PY

echo "== timing Swift (swift run -c release icws-bench bls $ITERATIONS)" >&2
SWIFT_JSON="$VENV/swift.jsonl"
(cd "$ROOT" && swift build -c release --product icws-bench >&2 && swift run -c release --skip-build icws-bench bls "$ITERATIONS") > "$SWIFT_JSON"

"$VENV/bin/python" - "$BLST_JSON" "$SWIFT_JSON" <<'PY'
import json, sys
blst = {j["name"]: j["median_us"] for j in map(json.loads, open(sys.argv[1]))}
swift = {j["name"]: j["median_us"] for j in map(json.loads, open(sys.argv[2]) ) }
missing = set(blst) ^ set(swift)
if missing:
    sys.exit(f"operations missing on one side: {sorted(missing)}")
print(f"{'operation':<20} {'swift_us':>10} {'blst_us':>10} {'swift/blst':>11}")
for name in blst:
    print(f"{name:<20} {swift[name]:>10.1f} {blst[name]:>10.1f} {swift[name] / blst[name]:>10.2f}x")
PY
