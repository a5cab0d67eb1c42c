#!/usr/bin/env bash
# Where a canister module's bytes go: builds it with its function names kept
# (ICWS_CANISTER_SYMBOLS=1, in Canisters/.build-symbols so the real modules are untouched) and
# lists the largest functions, a per-area sum (Candid, Dictionary, String, …) and the functions
# with the largest retained size (own code plus everything reachable only through them: what
# removing them would save; scripts/wasm-retained-sizes.py, which can also price a family of
# functions with --without REGEX).
#
#   scripts/canister-sizes.sh [Product] [count]     # default ChatCanister, 40 functions
#
# The sizes are of the unstripped module's code; the shipped module (--strip-all,
# --compress-relocations) is smaller, but the proportions hold.
set -euo pipefail
cd "$(dirname "$0")/.."
product=${1:-ChatCanister}
count=${2:-40}
scratch=Canisters/.build-symbols
ICWS_CANISTER_SYMBOLS=1 swift build --package-path Canisters --scratch-path "$scratch" \
    --triple wasm32-unknown-none-wasm -c release --product "$product" 2>&1 \
    | grep -v 'save unknown driver flag -disable-stack-protector' >&2
bin=$(dirname "$(command -v swift)")
module="$scratch/release/$product.wasm"
echo "$module: $(wc -c < "$module") bytes unstripped"
"$bin/llvm-nm" --size-sort -S "$module" | python3 -c '
import collections, subprocess, sys
count, demangle = int(sys.argv[1]), sys.argv[2]
rows = []
for line in sys.stdin:
    parts = line.split(None, 3)
    if len(parts) == 4:
        try: rows.append((int(parts[1], 16), parts[3].strip()))
        except ValueError: pass
names = subprocess.run([demangle, "--simplified", "--compact"], input="\n".join(n for _, n in rows),
                       capture_output=True, text=True).stdout.split("\n")
areas = ["Candid", "CBOR", "Dictionary", "Set", "SHA2", "Merkle", "Principal", "String", "Unicode",
         "Array", "Nonce", "Certification", "Snapshot", "Resum", "Stable", "Sort"]
sums = collections.Counter()
for (size, _), name in zip(rows, names):
    sums[next((a for a in areas if a.lower() in name.lower()), "other")] += size
print("named total", sum(s for s, _ in rows))
for area, size in sums.most_common(): print(f"{size:8d}  {area}")
print()
for (size, _), name in sorted(zip(rows, names), reverse=True)[:count]: print(f"{size:8d}  {name[:160]}")
' "$count" "$bin/swift-demangle"
echo
scripts/wasm-retained-sizes.py "$module" --top "$count"
