#!/usr/bin/env bash
# Builds and runs libFuzzer targets from Fuzz/.
#
#   scripts/fuzz.sh list                 # names of the targets
#   scripts/fuzz.sh build <target>...    # build only
#   scripts/fuzz.sh run <seconds> <target>...   # build and run each for <seconds>
#   scripts/fuzz.sh run 30 all
#
# A target is Fuzz/<Target>.swift (defines LLVMFuzzerTestOneInput). It is compiled as ONE
# module together with the sources named on its first line: module names (all of
# Sources/<name>) or paths of files or folders, e.g.
#   // fuzz-modules: ICCore
#   // fuzz-modules: ICCore BLS12381 Sources/ICCertification/Certificate
# so target files never `import` our modules. Sources that import another of our modules
# guard it with `#if !ICWS_SINGLE_MODULE`.
# Crashes are written to .build-fuzz/crashes/<target>/ and fail the run; each one found must
# become a regression test.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.build-fuzz
mkdir -p "$out"

targets() { for f in Fuzz/*.swift; do basename "$f" .swift; done; }

build() {
    local target=$1 file="Fuzz/$1.swift"
    [ -f "$file" ] || { echo "fuzz: no such target '$target' (have: $(targets | tr '\n' ' '))" >&2; exit 2; }
    local modules
    modules=$(sed -n 's,^// fuzz-modules: *,,p' "$file" | head -n1)
    [ -n "$modules" ] || { echo "fuzz: $file lacks a '// fuzz-modules:' line" >&2; exit 2; }
    local sources=()
    for m in $modules; do
        local where="Sources/$m"
        case "$m" in */*) where="$m" ;; esac
        [ -e "$where" ] || { echo "fuzz: $file names '$m', which does not exist" >&2; exit 2; }
        while IFS= read -r -d '' s; do sources+=("$s"); done < <(find "$where" -name '*.swift' -print0 | sort -z)
    done
    echo "fuzz: building $target ($modules)" >&2
    # The linker prints hundreds of harmless ASan symbol warnings: keep them in a log.
    if ! swiftc -sanitize=fuzzer,address -parse-as-library -O -g -D ICWS_SINGLE_MODULE \
        -module-name "Fuzz$target" "${sources[@]}" "$file" -o "$out/fuzz-$target" >"$out/$target.build.log" 2>&1; then
        grep -v 'Cannot export local symbol' "$out/$target.build.log" >&2
        echo "fuzz: building $target FAILED" >&2
        return 1
    fi
}

# Seeds the corpus from the shared IC vectors when they and python3 are present (the
# vectors are read in place, never copied into the repository).
seed_from_vectors() {
    local target=$1 corpus=$2 vectors=../shared/testdata
    [ -d "$vectors" ] && command -v python3 >/dev/null || return 0
    python3 - "$target" "$corpus" "$vectors" <<'PY'
import json, os, sys, hashlib
target, corpus, vectors = sys.argv[1:4]
def load(path):
    try:
        with open(os.path.join(vectors, path)) as f: return json.load(f)
    except Exception: return None
blobs = []
if target in ("CertificateVerify", "CBORDecode", "HashTreeDecode"):
    certs = load("certificates/certificates.json") or {}
    blobs += [c["certificate_cbor_hex"] for c in certs.get("certificates", [])]
if target in ("CBORDecode", "HashTreeDecode"):
    trees = load("hash_tree/hash_trees.json") or {}
    blobs += [t["tree_cbor_hex"] for t in trees.get("trees", trees.get("vectors", [])) if "tree_cbor_hex" in t]
    envs = load("envelopes/envelopes.json") or {}
    blobs += [e["envelope_cbor_hex"] for e in envs.get("envelopes", [])]
if target == "CandidDecode":
    tests = load("candid/candid_decode_tests.json") or {}
    blobs += [t["input"]["hex"] for t in tests.get("tests", []) if t.get("input", {}).get("format") == "binary"]
for hexdata in blobs:
    data = bytes.fromhex(hexdata)
    with open(os.path.join(corpus, "vector-" + hashlib.sha1(data).hexdigest()[:16]), "wb") as f: f.write(data)
PY
}

run() {
    local seconds=$1 target=$2
    build "$target" || return 1
    local corpus="$out/corpus/$target" crashes="$out/crashes/$target"
    mkdir -p "$corpus" "$crashes"
    seed_from_vectors "$target" "$corpus"
    # Seed corpora live in Fuzz/seeds/<target>/ when present.
    local seeds=()
    [ -d "Fuzz/seeds/$target" ] && seeds=("Fuzz/seeds/$target")
    echo "fuzz: running $target for ${seconds}s" >&2
    local log="$out/$target.log"
    # -detect_leaks=0: LeakSanitizer cannot see Swift references kept in multi-payload enums
    # (their spare pointer bits hold the case tag), so objects cached by a long-lived value
    # are reported as leaked although ARC still owns them. Crashes, ASan errors, timeouts and
    # memory blow-ups are still detected.
    if ! ASAN_OPTIONS=detect_leaks=0 "$out/fuzz-$target" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 -detect_leaks=0 \
        -artifact_prefix="$crashes/" -print_final_stats=1 "$corpus" "${seeds[@]}" >"$log" 2>&1; then
        tail -n 60 "$log" >&2
        echo "fuzz: $target FAILED; reproducer(s) in $crashes" >&2
        return 1
    fi
    local execs
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
    echo "fuzz: $target ok: ${execs:-?} executions in ${seconds}s" >&2
}

cmd=${1:-}
case "$cmd" in
    list) targets ;;
    build) shift; for t in "$@"; do build "$t"; done ;;
    run)
        shift; seconds=${1:?seconds}; shift
        [ "${1:-}" = all ] && set -- $(targets)
        status=0
        for t in "$@"; do run "$seconds" "$t" || status=1; done
        exit $status ;;
    *) sed -n '2,16p' "$0"; exit 2 ;;
esac
