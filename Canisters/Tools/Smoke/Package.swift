// swift-tools-version:6.0
// A throwaway smoke test: runs the built canister modules on WasmKit with a minimal ic0 host
// (no rollback, no real certificates) and checks the main paths end to end. The replica's
// tests supersede it; it exists so the canisters were executed at least once before those.
//
//   scripts/build-canisters.sh && swift run --package-path Canisters/Tools/Smoke smoke Canisters/.build/wasm
import PackageDescription

let package = Package(
    name: "smoke",
    dependencies: [.package(url: "https://github.com/swiftwasm/WasmKit.git", exact: "0.4.2")],
    targets: [
        .target(name: "ICCore"),
        .target(name: "ICWebSocketProtocol", dependencies: ["ICCore"]),
        .executableTarget(
            name: "smoke",
            dependencies: ["ICCore", "ICWebSocketProtocol", .product(name: "WasmKit", package: "WasmKit")],
            swiftSettings: [.swiftLanguageMode(.v5)]),
    ]
)
