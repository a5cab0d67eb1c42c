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
# Needs only the Swift toolchain (the same Embedded Swift wasm32 support the canisters use).
set -euo pipefail
cd "$(dirname "$0")/.."
triple=wasm32-unknown-none-wasm
out=Web/.build/web
mkdir -p "$out"
echo "web client: building ICWebSocketWeb for $triple (release)" >&2
swift build --package-path Web --triple "$triple" -c release --product ICWebSocketWeb 2>&1 \
    | grep -v 'save unknown driver flag -disable-stack-protector' >&2
bin=$(swift build --package-path Web --triple "$triple" -c release --show-bin-path)
cp "$bin/ICWebSocketWeb.wasm" "$out/icws-client.wasm"
cp Web/Shell/icws.js Web/Shell/index.html "$out/"
echo "web client: $out/icws-client.wasm ($(stat -c %s "$out/icws-client.wasm") bytes)" >&2
