// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "icws",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "ICCertification", targets: ["ICCertification"]),
        .library(name: "ICAgent", targets: ["ICAgent"]),
        .library(name: "ICCore", targets: ["ICCore"]),
        .library(name: "BLS12381", targets: ["BLS12381"]),
        .library(name: "ICWebSocketProtocol", targets: ["ICWebSocketProtocol"]),
        .library(name: "Secp256k1", targets: ["Secp256k1"]),
        .library(name: "ICReplica", targets: ["ICReplica"]),
        .library(name: "ICWebSocketGateway", targets: ["ICWebSocketGateway"]),
        .library(name: "ICWebSocketClient", targets: ["ICWebSocketClient"]),
        .library(name: "ICWebSocketTesting", targets: ["ICWebSocketTesting"]),
        .executable(name: "icws", targets: ["icws"]),
        .executable(name: "icws-bench", targets: ["icws-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swiftwasm/WasmKit.git", exact: "0.4.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/hummingbird-project/swift-websocket.git", from: "1.6.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // Portable: no Foundation, typed throws, no existentials. Also compiled with
        // Embedded Swift for wasm32 canisters (scripts/check-embedded.sh).
        .target(name: "ICCore"),
        // Portable like ICCore; uses only ICCore's SHA-256.
        .target(name: "BLS12381", dependencies: ["ICCore"]),
        // Portable ECDSA over secp256k1 (dfx's default identity type); uses ICCore's SHA-256/HMAC.
        .target(name: "Secp256k1", dependencies: ["ICCore"]),
        // Portable like ICCore: the WebSocket protocol's Candid types, CBOR frames and keys.
        .target(name: "ICWebSocketProtocol", dependencies: ["ICCore"]),
        // The canister library's state machine, portable: compiled here for host tests and
        // with Embedded Swift in Canisters/ (same sources, via a symlink).
        .target(name: "ICWebSocketCanisterCore", dependencies: ["ICCore", "ICWebSocketProtocol"]),
        // The IC's signed messages without networking: identities, envelopes and request ids,
        // request authentication, certificates (verifying and, for the replica, issuing).
        .target(
            name: "ICCertification",
            dependencies: [
                "ICCore", "BLS12381", "Secp256k1",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ]),
        // The IC agent: the HTTP interface (call, query, read_state, status) and the management
        // canister; re-exports ICCertification.
        .target(
            name: "ICAgent",
            dependencies: [
                "ICCore", "ICCertification",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]),
        // The local Internet Computer: HTTP interface, ingress validation, execution rounds on
        // WasmKit, certification under its own BLS root key, the management canister.
        .target(
            name: "ICReplica",
            dependencies: [
                "ICCore", "BLS12381", "ICCertification",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "WasmKit", package: "WasmKit"),
                .product(name: "WasmParser", package: "WasmKit"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]),
        // The trustless WebSocket gateway: sessions, pollers, limits, metrics.
        .target(
            name: "ICWebSocketGateway",
            dependencies: [
                "ICCore", "ICAgent", "ICWebSocketProtocol",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        // The Swift client SDK: verified, acknowledged WebSocket sessions to canisters.
        .target(
            name: "ICWebSocketClient",
            dependencies: [
                "ICCore", "ICCertification", "ICAgent", "ICWebSocketProtocol",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // Builds this repository's Embedded Swift canisters (Canisters/) to Wasm, cached.
        .target(name: "CanisterToolchain"),
        // Testing what talks to the IC: the local replica on loopback with the Swift canisters
        // built and deployed, gateways in process, `icws` as a child process, and the fakes that
        // inject faults (slow or failing IC, proxies, synthetic poll batches). Used by the tests
        // and by icws-bench.
        .target(
            name: "ICWebSocketTesting",
            dependencies: [
                "ICReplica", "ICAgent", "ICCore", "BLS12381", "CanisterToolchain", "ICWebSocketGateway", "ICWebSocketProtocol",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // The CLI: one file per subcommand.
        .executableTarget(
            name: "icws",
            dependencies: [
                "ICReplica", "ICAgent", "ICCore", "ICWebSocketGateway", "ICWebSocketClient", "ICWebSocketProtocol", "CanisterToolchain",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .executableTarget(
            name: "icws-bench",
            dependencies: [
                "ICCore", "BLS12381", "ICAgent", "ICReplica", "ICWebSocketProtocol", "ICWebSocketGateway", "ICWebSocketClient",
                "CanisterToolchain", "ICWebSocketTesting",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "WAT", package: "WasmKit"), .product(name: "Logging", package: "swift-log"),
            ]),
        // Test-only helpers: locating ../shared/testdata, JSON loading, Candid test inputs.
        .target(name: "ICTestSupport", dependencies: ["ICCore"], path: "Tests/ICTestSupport"),

        .testTarget(name: "ICCoreTests", dependencies: ["ICCore", "ICTestSupport"]),
        .testTarget(name: "Secp256k1Tests", dependencies: ["Secp256k1", "ICCore", "ICTestSupport"]),
        .testTarget(
            name: "ICCertificationTests",
            dependencies: [
                "ICCertification", "ICCore", "BLS12381", "Secp256k1", "ICTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        .testTarget(
            name: "ICAgentTests",
            dependencies: [
                "ICAgent", "ICCore", "BLS12381", "ICTestSupport", "ICWebSocketTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(
            name: "ICWebSocketCanisterCoreTests",
            dependencies: [
                "ICWebSocketCanisterCore", "ICWebSocketProtocol", "ICCore", "ICTestSupport",
            ]),
        .testTarget(name: "ICWebSocketProtocolTests", dependencies: ["ICWebSocketProtocol", "ICCore", "ICTestSupport"]),
        .testTarget(
            name: "ICReplicaTests",
            dependencies: [
                "ICReplica", "ICAgent", "ICCore", "BLS12381", "ICTestSupport", "ICWebSocketTesting",
                .product(name: "WAT", package: "WasmKit"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]),
        .testTarget(
            name: "ICWebSocketGatewayTests",
            dependencies: [
                "ICWebSocketGateway", "ICWebSocketProtocol", "ICAgent", "ICCore", "ICTestSupport", "ICWebSocketTesting",
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]),
        // The whole system: client SDK → gateway → replica → Swift canisters (protocol §8 scenarios).
        .testTarget(
            name: "ICWebSocketEndToEndTests",
            dependencies: [
                "ICWebSocketClient", "ICWebSocketGateway", "ICWebSocketProtocol", "ICAgent", "ICCore", "ICReplica", "ICWebSocketTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]),
        .testTarget(name: "BLS12381Tests", dependencies: ["BLS12381", "ICCore", "ICTestSupport"]),
        .testTarget(
            name: "ICWebSocketClientTests",
            dependencies: [
                "ICWebSocketClient", "ICWebSocketProtocol", "ICAgent", "ICCore", "BLS12381", "ICTestSupport", "ICWebSocketTesting",
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // The Swift canisters (Canisters/, built to Wasm) in the real replica, driven like a gateway and its clients.
        .testTarget(
            name: "ICWebSocketCanisterTests",
            dependencies: [
                "ICWebSocketTesting", "CanisterToolchain", "ICAgent", "ICCore", "ICWebSocketProtocol", "ICTestSupport", "ICReplica",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]),
    ],
    swiftLanguageModes: [.v6]
)
