// swift-tools-version:6.0
// Embedded Swift canisters, built to wasm32 IC modules. Kept apart from the host package so
// that a plain `swift build` there never tries to build Wasm. Build with
// `scripts/build-canisters.sh` (it passes `--triple wasm32-unknown-none-wasm -c release` and
// checks every module); a plain `swift build` here would target the host and fail.
//
// ICCore, ICWebSocketProtocol and ICWebSocketCanisterCore are the host package's own sources:
// `Sources/<name>` here are symlinks to `../../Sources/<name>` (SwiftPM refuses target paths
// outside the package root but follows symlinked directories), so there is one copy of the code,
// compiled natively for the host tests and with Embedded Swift here.
import PackageDescription

let embedded: [SwiftSetting] = [
    .enableExperimentalFeature("Embedded"),
    .enableExperimentalFeature("Extern"),
    // -wmo: required by Embedded. -parse-as-library: without it a single-file executable
    // target is compiled in script mode and its global initialisers never run (no entry point).
    // -disable-stack-protector: there is no __stack_chk_guard on the IC.
    // -inline-threshold=-50: LLVM inlines a call only where that makes the code smaller (and
    // where `@inline(__always)` demands it; the SIL optimizer has already inlined for speed). Measured with `icws-bench canister` (docs/CANISTER-COST.md): modules 2–6 % smaller
    // (chat 212 036 → 198 523 bytes), instructions per call unchanged or lower; lower values
    // change nothing more.
    .unsafeFlags([
        "-wmo", "-Osize", "-disable-stack-protector", "-parse-as-library", "-Xllvm", "-inline-threshold=-50",
    ]),
]

/// `ICWS_CANISTER_SYMBOLS=1` keeps the function names in the modules (no `--strip-all`, no
/// relocation compression) so `scripts/canister-sizes.sh` can list where the bytes go; the
/// modules are then larger and are for measuring only.
let keepSymbols = Context.environment["ICWS_CANISTER_SYMBOLS"] == "1"
let stripFlags: [String] =
    keepSymbols
    ? ["-Xlinker", "--strip-debug"]
    // MVP encoding of call_indirect and smaller code; needs strip.
    : ["-Xlinker", "--strip-all", "-Xlinker", "--compress-relocations"]

let canisterLinker: [LinkerSetting] = [
    .unsafeFlags(
        stripFlags + [
            // No crt1.o, libc or compiler-rt: none exists for wasm32-unknown-none.
            "-Xclang-linker", "-nostdlib",
            // A reactor-style module: no start function, no _start.
            "-Xlinker", "--no-entry",
            // Stack below static data: an overflow traps instead of corrupting globals.
            "-Xlinker", "--stack-first", "-Xlinker", "-z", "-Xlinker", "stack-size=1048576",
            // String comparison and hashing (dictionary keys, Principal text) need these tables;
            // resolved against the -L<toolchain>/usr/lib/swift the driver adds.
            "-Xlinker", "-l:embedded/wasm32-unknown-none-wasm/libswiftUnicodeDataTables.a",
            // Never --allow-undefined: a missing symbol must fail the link, not become an
            // `env.*` import that the IC rejects.
        ])
]

func canister(_ name: String, dependencies: [Target.Dependency]) -> Target {
    .executableTarget(
        name: name, dependencies: dependencies, swiftSettings: embedded, linkerSettings: canisterLinker)
}

let package = Package(
    name: "Canisters",
    products: [
        .executable(name: "TestCanister", targets: ["TestCanister"]),
        .executable(name: "ChatCanister", targets: ["ChatCanister"]),
        .executable(name: "PingPongCanister", targets: ["PingPongCanister"]),
        .executable(name: "MinimalCanister", targets: ["MinimalCanister"]),
    ],
    targets: [
        // Allocator, mem*, deterministic arc4random_buf, putchar → debug_print.
        .target(name: "CSupport", cSettings: [.unsafeFlags(["-ffreestanding", "-Os"])]),
        .target(name: "ICCore", swiftSettings: embedded),
        .target(name: "ICWebSocketProtocol", dependencies: ["ICCore"], swiftSettings: embedded),
        .target(name: "ICWebSocketCanisterCore", dependencies: ["ICCore", "ICWebSocketProtocol"], swiftSettings: embedded),
        // The canister kit: ic0 bindings, message API, timers, stable memory, certified data.
        .target(name: "ICCanister", dependencies: ["CSupport", "ICCore"], swiftSettings: embedded),
        // The IC WebSocket canister library: the core wired to ic0 and the four ws_* methods.
        .target(
            name: "ICWebSocketCDK",
            dependencies: [
                "ICCanister", "ICCore", "ICWebSocketProtocol", "ICWebSocketCanisterCore",
            ], swiftSettings: embedded),
        canister("MinimalCanister", dependencies: ["ICCanister", "ICCore"]),
        canister("TestCanister", dependencies: ["ICWebSocketCDK", "ICCanister", "ICCore", "ICWebSocketProtocol"]),
        canister("ChatCanister", dependencies: ["ICWebSocketCDK", "ICCanister", "ICCore", "ICWebSocketProtocol"]),
        canister("PingPongCanister", dependencies: ["ICWebSocketCDK", "ICCanister", "ICCore", "ICWebSocketProtocol"]),
    ],
    swiftLanguageModes: [.v6]
)
