#!/usr/bin/env bash
# Builds and runs libFuzzer targets from Fuzz/.
#
#   scripts/fuzz.sh list                 # names of the targets
#   scripts/fuzz.sh build <target>...    # build only
#   scripts/fuzz.sh run <seconds> <target>...   # build and run each for <seconds>
#   scripts/fuzz.sh run 30 all
#
# A target is Fuzz/<Target>.swift (defines LLVMFuzzerTestOneInput). It is compiled as ONE
# module together with the sources of the modules named on its first line, e.g.
#   // fuzz-modules: ICCore
#   // fuzz-modules: ICCore BLS12381
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
        while IFS= read -r -d '' s; do sources+=("$s"); done < <(find "Sources/$m" -name '*.swift' -print0 | sort -z)
    done
    echo "fuzz: building $target ($modules)" >&2
    swiftc -sanitize=fuzzer,address -parse-as-library -O -g -D ICWS_SINGLE_MODULE \
        -module-name "Fuzz$target" "${sources[@]}" "$file" -o "$out/fuzz-$target"
}

run() {
    local seconds=$1 target=$2
    build "$target"
    local corpus="$out/corpus/$target" crashes="$out/crashes/$target"
    mkdir -p "$corpus" "$crashes"
    # Seed corpora live in Fuzz/seeds/<target>/ when present.
    local seeds=()
    [ -d "Fuzz/seeds/$target" ] && seeds=("Fuzz/seeds/$target")
    echo "fuzz: running $target for ${seconds}s" >&2
    local log="$out/$target.log"
    if ! "$out/fuzz-$target" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 \
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
