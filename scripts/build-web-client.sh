#!/usr/bin/env bash
# Builds the browser client: the Embedded Swift Wasm module (Web/) and the page's assets.
#
#   scripts/build-web-client.sh
#
# Output, in Web/.build/web/ (what `icws dev` serves at http://<gateway>/):
#   icws-client.wasm   the protocol, certificate and BLS checks (Web/Sources/ICWebSocketWeb)
#   icws.js            the JavaScript shell (ES module, no dependencies): WebSocket, clock,
#                      WebCrypto Ed25519 signing, the IcWebSocket API
#   index.html         the chat page
# Needs the Swift toolchain (the same Embedded Swift wasm32 support the canisters use); with
# wasm-opt on the PATH (Debian's binaryen, which .ci/run installs) the module is also run
# through `wasm-opt -Oz`, about a fifth smaller (docs/BROWSER-CLIENT.md, "Size and speed").
set -euo pipefail
cd "$(dirname "$0")/.."
triple=wasm32-unknown-none-wasm
out=Web/.build/web
mkdir -p "$out"
echo "web client: building ICWebSocketWeb for $triple (release)" >&2
swift build --package-path Web --triple "$triple" -c release --product ICWebSocketWeb 2>&1 \
    | grep -v 'save unknown driver flag -disable-stack-protector' >&2
bin=$(swift build --package-path Web --triple "$triple" -c release --show-bin-path)
if command -v wasm-opt >/dev/null 2>&1; then
    # The features the toolchain's output uses (wasm-opt validates against them).
    wasm-opt -Oz --enable-bulk-memory --enable-sign-ext --enable-mutable-globals --enable-nontrapping-float-to-int \
        "$bin/ICWebSocketWeb.wasm" -o "$out/icws-client.wasm"
    echo "web client: wasm-opt -Oz: $(stat -c %s "$bin/ICWebSocketWeb.wasm") -> $(stat -c %s "$out/icws-client.wasm") bytes" >&2
else
    echo "web client: no wasm-opt (apt-get install binaryen): the module is not size-optimized (~20% larger)" >&2
    cp "$bin/ICWebSocketWeb.wasm" "$out/icws-client.wasm"
fi
cp Web/Shell/icws.js Web/Shell/index.html "$out/"
echo "web client: $out/icws-client.wasm ($(stat -c %s "$out/icws-client.wasm") bytes)" >&2
