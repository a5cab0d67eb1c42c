// swift-tools-version:6.0
// The browser client's Wasm module, built with Embedded Swift for wasm32 from the host package's
// own portable sources. Kept apart from the host package (a plain `swift build` there never
// builds Wasm) and from Canisters/ (this module runs in a browser, not on the IC).
// Build with `scripts/build-web-client.sh`; it writes Web/.build/web/icws-client.wasm.
//
// `Sources/<name>` are symlinks to `../../Sources/<name>` (and CSupport to the canisters'
// allocator), as in Canisters/Package.swift; ICCertification and ICWebSocketClient list the
// files that are portable (no Foundation, no swift-crypto, no existentials): certificates and
// their validation, request content, and the client's protocol state machine.
import PackageDescription

let embedded: [SwiftSetting] = [
    .enableExperimentalFeature("Embedded"),
    .enableExperimentalFeature("Extern"),
    .unsafeFlags(["-wmo", "-Osize", "-disable-stack-protector", "-parse-as-library"]),
]

let package = Package(
    name: "Web",
    products: [
        .executable(name: "ICWebSocketWeb", targets: ["ICWebSocketWeb"])
    ],
    targets: [
        // Allocator and mem* for wasm32-unknown-none (shared with the canisters).
        .target(name: "CSupport", cSettings: [.unsafeFlags(["-ffreestanding", "-Os"])]),
        .target(name: "ICCore", swiftSettings: embedded),
        .target(name: "BLS12381", dependencies: ["ICCore"], swiftSettings: embedded),
        .target(name: "ICWebSocketProtocol", dependencies: ["ICCore"], swiftSettings: embedded),
        .target(
            name: "ICCertification", dependencies: ["ICCore", "BLS12381"],
            sources: [
                "Certificate/Certificate.swift", "Certificate/RootKey.swift", "Certificate/CertificateValidator.swift",
                "Envelope/DomainSeparator.swift", "Envelope/Duration+Nanoseconds.swift", "Envelope/RequestContent.swift",
                "Envelope/IngressExpiry.swift", "Envelope/EnvelopeError.swift", "Support/BoundedCache.swift",
                "Identity/IdentityError.swift",
            ],
            swiftSettings: embedded),
        .target(
            name: "ICWebSocketClient", dependencies: ["ICCore", "ICCertification", "ICWebSocketProtocol"],
            sources: [
                "ClientStateMachine.swift", "CanisterMessageVerifier.swift", "CanisterMessageVerificationError.swift",
                "ICWebSocketClientError.swift", "AcknowledgementTracker.swift",
            ],
            swiftSettings: embedded),
        .executableTarget(
            name: "ICWebSocketWeb",
            dependencies: ["CSupport", "ICCore", "ICCertification", "ICWebSocketProtocol", "ICWebSocketClient"],
            swiftSettings: embedded,
            linkerSettings: [
                .unsafeFlags([
                    // No crt1.o or libc for wasm32-unknown-none; a reactor module without _start.
                    "-Xclang-linker", "-nostdlib",
                    "-Xlinker", "--no-entry",
                    "-Xlinker", "--strip-all",
                    "-Xlinker", "--stack-first", "-Xlinker", "-z", "-Xlinker", "stack-size=1048576",
                ])
            ]),
    ],
    swiftLanguageModes: [.v6]
)
