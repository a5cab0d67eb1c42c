#!/usr/bin/env bash
# Formats the Swift sources with the toolchain's `swift format` and the repository's
# .swift-format (4-space indent, 140 columns, the code's existing line breaks respected).
#
#   scripts/format.sh           rewrite the files in place
#   scripts/format.sh --check   list what would change and fail if anything would (no writes)
#
# Canisters/Sources holds symlinks into Sources/ (the portable modules); only the canister-only
# folders are named here so that no file is visited twice.
set -euo pipefail
cd "$(dirname "$0")/.."

paths=(Package.swift Sources Tests Fuzz Canisters/Package.swift Canisters/Tools
       Canisters/Sources/ICCanister Canisters/Sources/ICWebSocketCDK Canisters/Sources/ChatCanister
       Canisters/Sources/PingPongCanister Canisters/Sources/TestCanister Canisters/Sources/MinimalCanister)
existing=()
for path in "${paths[@]}"; do [ -e "$path" ] && existing+=("$path"); done

if ! swift format --version >/dev/null 2>&1; then
    echo "format: this toolchain has no 'swift format' (Swift 6 toolchains ship it)" >&2
    exit 2
fi

if [ "${1:-}" = "--check" ]; then
    # `lint --strict` reports formatting differences as errors without writing.
    swift format lint --configuration .swift-format --recursive --strict --parallel "${existing[@]}"
else
    swift format format --configuration .swift-format --recursive --in-place --parallel "${existing[@]}"
fi
