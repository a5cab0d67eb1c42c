import Foundation

/// Builds the browser client (`Web/`: the Embedded Swift Wasm module and its JavaScript shell
/// and page) with `scripts/build-web-client.sh`, reusing the previous build when no source
/// changed; concurrent builders wait for each other as for ``CanisterBuilder``.
public struct WebClientBuilder: Sendable {
    /// The repository root (holds `Web/Package.swift` and `scripts/build-web-client.sh`).
    public let repositoryRoot: URL

    public init(repositoryRoot: URL) {
        self.repositoryRoot = repositoryRoot
    }

    /// The builder of the repository that also holds the canisters.
    public init(_ canisters: CanisterBuilder) {
        repositoryRoot = canisters.repositoryRoot
    }

    /// The folder the page is served from: `icws-client.wasm`, `icws.js`, `index.html`.
    public var assetsDirectory: URL { repositoryRoot.appendingPathComponent("Web/.build/web") }

    /// The files a build writes, by name, with the content type to serve each with
    /// (`application/wasm` lets `WebAssembly.compileStreaming` compile while downloading).
    public static let assets: [String: String] = [
        "icws-client.wasm": "application/wasm", "icws.js": "text/javascript; charset=utf-8", "index.html": "text/html; charset=utf-8",
    ]

    /// Whether an asset is missing or older than any source of the browser client.
    public var isStale: Bool {
        let built = Self.assets.keys.map { CanisterBuilder.modificationDate(assetsDirectory.appendingPathComponent($0)) }
        guard let oldest = built.compactMap({ $0 }).min(), built.count == built.compactMap({ $0 }).count else { return true }
        let sources = ["Web/Sources", "Web/Shell", "Web/Package.swift", "scripts/build-web-client.sh"]
        return CanisterBuilder.newestModification(of: sources.map { repositoryRoot.appendingPathComponent($0) }) > oldest
    }

    /// Builds when stale (or `force`); `output` receives the build's progress lines.
    public func build(force: Bool = false, output: @Sendable (String) -> Void = { _ in }) throws(CanisterBuildError) {
        try CanisterBuilder.withLock(in: repositoryRoot.appendingPathComponent("Web/.build")) { () throws(CanisterBuildError) in
            guard force || isStale else { return }
            try CanisterBuilder.runScript("scripts/build-web-client.sh", in: repositoryRoot, output: output)
        }
    }
}
