import CanisterToolchain
import Foundation
import Hummingbird
import ICAgent
import ICCore
import ICWebSocketClient
import ICWebSocketProtocol
import ICWebSocketTesting
import Logging

/// Suite `browser`: the browser client's Wasm module in headless Chromium beside the native
/// Swift client, on the same frame — the canister's OpenMessage with a full certificate check
/// (root key → subnet delegation → canister's certified data → witness), each iteration in a
/// fresh session so that no verification is cached. Needs Chromium and builds `Web/` if stale.
enum BrowserBenchmarks {
    static func run(_ harness: BenchmarkHarness) async {
        await exitOnFailure("browser") { try await runThrowing(harness) }
    }

    private static func runThrowing(_ harness: BenchmarkHarness) async throws {
        guard let canisters = CanisterBuilder.locate() else {
            throw BenchFailure("run icws-bench browser inside the repository (it builds Web/ on first use)")
        }
        let web = WebClientBuilder(canisters)
        try web.build { line in FileHandle.standardError.write(Data((line + "\n").utf8)) }
        let wasm = web.assetsDirectory.appendingPathComponent("icws-client.wasm")
        let wasmBytes = (try? FileManager.default.attributesOfItem(atPath: wasm.path)[.size] as? Int) ?? 0
        print("{\"name\": \"browser.wasm_module_bytes\", \"bytes\": \(wasmBytes), \"goal_bytes\": 300000}")

        // One OpenMessage for a client whose key is a fixed 44-byte "DER" (receiving needs no signing).
        let subnet = DelegatedSubnet("bench browser")
        let canister = Principal.canister(index: 150)
        let publicKeyDER = [UInt8](repeating: 7, count: 44)
        let clientKey = ClientKey(clientPrincipal: Principal.selfAuthenticating(derPublicKey: publicKeyDER), clientNonce: 7)
        let gateway = Principal.selfAuthenticating(derPublicKey: [1, 2, 3])
        let key = MessageKey.format(gateway: gateway, nonce: 0)
        let content = WebsocketMessage(
            clientKey: clientKey, sequenceNum: 1, timestamp: DelegatedSubnet.now, isServiceMessage: true,
            content: WebsocketServiceMessageContent.openMessage(clientKey: clientKey).encoded()
        ).cborEncoded()
        guard let tree = try? HashTree(paths: [([MessageKey.certificationLabel, Array(key.utf8)], SHA256.hash(content))]) else {
            throw BenchFailure("fixed tree")
        }
        let certificate = subnet.certificate(certifiedData: tree.reconstruct(), of: canister)
        let frame = CanisterMessageFrame(key: key, content: content, cert: certificate, tree: tree.encoded(selfDescribe: true)).encoded()
        let handshake = GatewayHandshakeFrame(gatewayPrincipal: gateway).encoded()
        let iterations = max(10, harness.iterations / 2)

        // Native, side by side: the same checks by the Swift SDK's state machine.
        let native = harness.measure("browser.native_verify_open_message_full", iterations: iterations) { () -> Bool in
            var machine = ClientStateMachine(
                canister: canister, clientKey: clientKey, rootKey: subnet.root.publicKey, maxCertificateAge: .seconds(300),
                ackTimeout: .seconds(330), clock: { DelegatedSubnet.now })
            _ = try? machine.receiveHandshake(handshake)
            return (try? machine.receiveCanisterMessage(frame)) == .opened(gateway: gateway)
        }

        guard HeadlessChromium.executable != nil else {
            print("{\"name\": \"browser.wasm_verify_open_message_full\", \"skipped\": \"no chromium\"}")
            return
        }
        // ICWS_BENCH_COMPARE_WASM=<path>: a second module measured in the same page, interleaved.
        let compare = ProcessInfo.processInfo.environment["ICWS_BENCH_COMPARE_WASM"].map { URL(fileURLWithPath: $0) }
        try await serve(web.assetsDirectory, compare: compare) { url in
            try await HeadlessChromium.run { browser in
                let page = try await browser.open(url + "/blank.html")
                try await browser.waitUntil("location.href.endsWith('/blank.html') && document.readyState === 'complete'", in: page)
                let compareModules = compare == nil ? "[]" : "['\(url)/compare.wasm']"
                let script = """
                    (async () => {
                      const m = await import('\(url)/icws.js');
                      const frame = m.hexToBytes('\(Hex.encode(frame))'), handshake = m.hexToBytes('\(Hex.encode(handshake))');
                      const rootKeyDER = m.hexToBytes('\(Hex.encode(subnet.root.publicKey.der))');
                      const modules = ['\(url)/icws-client.wasm'].concat(\(compareModules));
                      const times = modules.map(() => []);
                      for (let i = 0; i < \(iterations + 3); i++) for (const [which, module] of modules.entries()) {
                        const s = await m.WasmSession.create(module);
                        s.configure({ canisterId: '\(canister)', rootKeyDER, publicKeyDER: new Uint8Array(44).fill(7),
                                      clientNonce: 7n, ackTimeoutMilliseconds: 330000 });
                        s.handshake(handshake, \(DelegatedSubnet.now)n);
                        const started = performance.now();
                        const { event } = s.receive(frame, \(DelegatedSubnet.now)n);
                        if (i >= 3) times[which].push(performance.now() - started);
                        if (event !== 1) throw new Error('the open message did not open the session');
                      }
                      return times.map((list) => list.sort((a, b) => a - b));
                    })()
                    """
                let times = try JSONDecoder().decode([[Double]].self, from: Data(try await browser.evaluate(script, in: page).utf8))
                let median = times[0][times[0].count / 2]
                let nativeMilliseconds = native / 1000
                print(
                    "{\"name\": \"browser.wasm_verify_open_message_full\", \"median_ms\": \(rounded(median)), "
                        + "\"native_median_ms\": \(rounded(nativeMilliseconds)), \"ratio_to_native\": \(rounded(median / nativeMilliseconds)), "
                        + "\"iterations\": \(times[0].count), \"chromium\": \"\(HeadlessChromium.executable ?? "")\"}")
                if let compare, times.count > 1 {
                    let other = times[1][times[1].count / 2]
                    print(
                        "{\"name\": \"browser.wasm_verify_open_message_full.compare\", \"module\": \"\(compare.path)\", "
                            + "\"median_ms\": \(rounded(other)), \"ratio_to_built\": \(rounded(other / median))}")
                }
            }
        }
    }

    /// Serves the built assets (and an empty page to run scripts in) on a loopback port.
    private static func serve(
        _ directory: URL, compare: URL?, _ body: @escaping @Sendable (String) async throws -> Void
    ) async throws {
        let router = Router()
        router.get("/:file") { _, context -> Response in
            let name = context.parameters.get("file") ?? ""
            if name == "blank.html" {
                return Response(
                    status: .ok, headers: [.contentType: "text/html"], body: .init(byteBuffer: ByteBuffer(string: "<!doctype html>")))
            }
            let path =
                name == "compare.wasm"
                ? compare?.path : WebClientBuilder.assets[name].map { _ in directory.appendingPathComponent(name).path }
            guard let path, let data = FileManager.default.contents(atPath: path) else { return Response(status: .notFound) }
            let type = WebClientBuilder.assets[name] ?? "application/wasm"
            return Response(status: .ok, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        var logger = Logger(label: "bench-browser")
        logger.logLevel = .critical
        try await LoopbackServer.run(
            { [logger] onServerRunning in
                Application(
                    router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), onServerRunning: onServerRunning,
                    logger: logger)
            }, while: { port in try await body("http://127.0.0.1:\(port)") })
    }

    private static func rounded(_ value: Double) -> Double { (value * 100).rounded() / 100 }

}
