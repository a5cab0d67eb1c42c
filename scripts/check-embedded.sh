#!/usr/bin/env bash
# Compiles the portable modules with Embedded Swift for wasm32, as canisters will.
# ICCore must stay free of Foundation, untyped throws, existentials and reflection;
# this check fails the build the moment one sneaks in.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.build-embedded
mkdir -p "$out"
for module in ${ICWS_EMBEDDED_MODULES:-ICCore Secp256k1 BLS12381 ICWebSocketProtocol ICWebSocketCanisterCore}; do
    mapfile -d '' sources < <(find "Sources/$module" -name '*.swift' -print0 | sort -z)
    echo "embedded: compiling $module (${#sources[@]} files) for wasm32-unknown-none-wasm" >&2
    swiftc -target wasm32-unknown-none-wasm \
        -enable-experimental-feature Embedded -wmo -parse-as-library -Osize -package-name icws \
        -module-name "$module" -emit-module -emit-module-path "$out/$module.swiftmodule" \
        -I "$out" "${sources[@]}" -c -o "$out/$module.o"
    echo "embedded: $module ok ($(stat -c %s "$out/$module.o") bytes of object code)" >&2
done
