#!/usr/bin/env bash
# Builds every Embedded Swift canister in Canisters/ to an IC Wasm module and checks each one.
#
#   scripts/build-canisters.sh            # all canisters
#   scripts/build-canisters.sh TestCanister ChatCanister
#
# Output: Canisters/.build/wasm/<Product>.wasm (stable paths for the replica tests):
#   MinimalCanister.wasm   counter/echo/timer/stable memory: exercises the ICCanister kit
#   TestCanister.wasm      the reference test canister's interface (init (nat64, nat64))
#   ChatCanister.wasm      chat room, fan-out with join/leave notices
#   PingPongCanister.wasm  ping → pong
# and each interface beside it (<Product>.did, from Canisters/Candid/), also embedded in the
# module as the custom section `icp:public candid:service`, and the module gzipped beside it
# (<Product>.wasm.gz, for dfx; see examples/dfx/dfx.json).
#
# Needs only the Swift toolchain (6.3 tested; it must ship lib/swift/embedded/wasm32-unknown-none-wasm
# and wasm-ld, as the swift.org Linux toolchains do). The module check (Canisters/Tools/wasm-check.swift, built with the replica's ModuleValidator)
# fails the script if a module imports anything but ic0 with the right signatures, exports a
# canister_* function that is not () -> (), has a start function, or lacks its memory export.
set -euo pipefail
cd "$(dirname "$0")/.."

products=("$@")
if [ ${#products[@]} -eq 0 ]; then
    # Every canister product Canisters/Package.swift declares (the one list of canisters;
    # CanisterBuilder.knownCanisters is tested against it).
    while IFS= read -r product; do products+=("$product"); done \
        < <(sed -n 's/^ *\.executable(name: "\([A-Za-z0-9]*\)".*/\1/p' Canisters/Package.swift)
fi

triple=wasm32-unknown-none-wasm
out=Canisters/.build/wasm
mkdir -p "$out" Canisters/.build/tools

echo "canisters: building ${products[*]} for $triple (release)" >&2
if [ $# -eq 0 ]; then
    swift build --package-path Canisters --triple "$triple" -c release 2>&1 \
        | grep -v 'save unknown driver flag -disable-stack-protector' >&2
else
    for product in "${products[@]}"; do
        swift build --package-path Canisters --triple "$triple" -c release --product "$product" 2>&1 \
            | grep -v 'save unknown driver flag -disable-stack-protector' >&2
    done
fi
bin=$(swift build --package-path Canisters --triple "$triple" -c release --show-bin-path)

embedder=Canisters/.build/tools/wasm-embed-candid
embedder_sources=(Canisters/Tools/wasm-embed-candid.swift Sources/ICReplica/WasmBinary.swift)
stale=0
for source in "${embedder_sources[@]}"; do [ "$source" -nt "$embedder" ] && stale=1; done
if [ ! -x "$embedder" ] || [ $stale = 1 ]; then
    echo "canisters: compiling the Candid embedder" >&2
    swiftc -O -parse-as-library -module-name WasmEmbedCandid "${embedder_sources[@]}" -o "$embedder"
fi

# Each module carries its interface as the `icp:public candid:service` custom section (what
# dfx writes; `icws connect` reads it to pick the message format), and the .did lands beside it.
#
# With binaryen's wasm-opt on the PATH (Debian's `binaryen`, which .ci/run installs) each module
# also goes through `wasm-opt -Oz` (about 14 % smaller, and fewer instructions per call; what
# `ic-wasm optimize` does for dfx projects). ICWS_WASM_OPT=0 skips it (to measure without).
optimizer=""
if [ "${ICWS_WASM_OPT:-1}" != 0 ] && command -v wasm-opt >/dev/null 2>&1; then
    optimizer=wasm-opt
else
    echo "canisters: no wasm-opt (apt-get install binaryen) or ICWS_WASM_OPT=0: modules are not size-optimized (~14% larger)" >&2
fi
for product in "${products[@]}"; do
    if [ -n "$optimizer" ]; then
        # The features the toolchain's output uses (wasm-opt validates against them; the IC has them).
        wasm-opt -Oz --enable-bulk-memory --enable-sign-ext --enable-mutable-globals --enable-nontrapping-float-to-int \
            "$bin/$product.wasm" -o "$out/$product.wasm"
        echo "canisters: $product: wasm-opt -Oz: $(wc -c < "$bin/$product.wasm") -> $(wc -c < "$out/$product.wasm") bytes" >&2
    else
        cp "$bin/$product.wasm" "$out/$product.wasm"
    fi
    cp "Canisters/Candid/$product.did" "$out/$product.did"
    "$embedder" "$out/$product.wasm" "$out/$product.did" >&2
done

checker=Canisters/.build/tools/wasm-check
# The replica's own module rules (two dependency-free files), so the check and the replica agree.
checker_sources=(Canisters/Tools/wasm-check.swift Sources/ICReplica/ModuleValidator.swift Sources/ICReplica/WasmBinary.swift)
stale=0
for source in "${checker_sources[@]}"; do [ "$source" -nt "$checker" ] && stale=1; done
if [ ! -x "$checker" ] || [ $stale = 1 ]; then
    echo "canisters: compiling the module checker" >&2
    swiftc -O -parse-as-library -module-name WasmCheck "${checker_sources[@]}" -o "$checker"
fi

modules=()
for product in "${products[@]}"; do modules+=("$out/$product.wasm"); done
"$checker" "${modules[@]}"

# The checked module gzipped, for dfx (`"wasm": "<Product>.wasm.gz"` of a custom canister,
# examples/dfx/dfx.json) and `icws canister deploy`; the IC's install_code takes either form.
# -n: no name or time in the header, so an unchanged module gives an unchanged file.
for product in "${products[@]}"; do
    gzip -9 -n -c "$out/$product.wasm" > "$out/$product.wasm.gz.tmp"
    mv "$out/$product.wasm.gz.tmp" "$out/$product.wasm.gz"
    gzipped=$(wc -c < "$out/$product.wasm.gz")
    echo "canisters: $out/$product.wasm.gz: $gzipped bytes ($(wc -c < "$out/$product.wasm") uncompressed)" >&2
    # install_code in one ingress message: the IC takes at most 2 MiB per message (envelope
    # included; bigger modules need the chunk store, which dfx uses but icws canister deploy does not).
    if [ "$gzipped" -gt 2000000 ]; then
        echo "canisters: ERROR: $product.wasm.gz is $gzipped bytes; one install_code message carries at most 2 MiB" >&2
        exit 1
    fi
done
