import Foundation
import ICAgent
import ICCore
import ICWebSocketTesting
import Testing

/// The browser client (Web/: the Embedded Swift Wasm module and its JavaScript shell) in a real
/// headless Chromium, against what `icws dev` serves: the real replica, gateway and chat canister.
@Suite(
    "Browser client in headless Chromium", .serialized,
    .enabled(if: HeadlessChromium.executable != nil, "chromium is not installed (.ci/run installs Debian's chromium with apt)"),
    .enabled(if: ICWSExecutable.url != nil, "needs .build/debug/icws (swift build)"))
struct BrowserClientTests {
    /// `icws dev` on free ports; its banner printed. A port chosen free can be taken by a
    /// parallel test before `icws dev` binds it: then it exits at once and is started again.
    static func startDev() async throws -> (process: ICWSProcess, page: String) {
        for attempt in 1...3 {
            let ports = try await LoopbackPorts.unused(3)
            let dev = try ICWSProcess([
                "dev", "--replica-port", "\(ports[0])", "--gateway-port", "\(ports[1])", "--web-port", "\(ports[2])",
                "--log-level", "warning",
            ])
            do {
                // The first run builds the chat canister and the browser client (CI prebuilds both).
                try await dev.waitFor("the icws dev banner", timeout: .seconds(900)) { out, _ in out.contains("Ctrl-C stops everything") }
            } catch {
                dev.terminate()
                if attempt < 3, dev.stderr.contains("Address already in use") { continue }
                throw error
            }
            #expect(dev.stdout.contains("browser   http://127.0.0.1:\(ports[2])/"), "the banner names the chat page")
            return (dev, "http://127.0.0.1:\(ports[2])/")
        }
        throw ICWSProcessError("unreachable")
    }

    /// `icws dev` and Chromium with `count` chat pages open (their sessions OPEN); `body` gets
    /// the browser, the pages and the page's URL.
    static func withOpenPages(
        _ count: Int, _ body: @escaping @Sendable (DevTools, [DevTools.Page], String) async throws -> Void
    ) async throws {
        let (dev, url) = try await startDev()
        defer { dev.terminate() }
        try await HeadlessChromium.run { browser in
            var pages: [DevTools.Page] = []
            for _ in 0..<count { pages.append(try await browser.open(url)) }
            for page in pages {
                try await browser.waitUntil("window.chat?.state === 'open'", in: page, describe: "JSON.stringify(window.chat)")
            }
            try await body(browser, pages, url)
        }
    }

    @Test("two pages chat through the gateway, every message verified in the page; a forged root key is refused")
    func twoPagesChat() async throws {
        try await Self.withOpenPages(2) { browser, pages, url in
            let (alice, bob) = (pages[0], pages[1])
            _ = try await browser.evaluate("window.chat.send('hello from alice')", in: alice)
            _ = try await browser.evaluate("window.chat.send('hi from bob')", in: bob)
            for page in [alice, bob] {
                try await browser.waitUntil(
                    "['hello from alice', 'hi from bob'].every((t) => window.chat.received.includes(t))", in: page,
                    describe: "JSON.stringify(window.chat)")
                #expect(try await browser.evaluate("window.chat.errors.length", in: page) == "0")
            }

            // Not asserted (timing): what verifying a message costs in the page, for the docs.
            let timings = try await browser.evaluate("window.chat.socket.statistics.receiveMillis", in: bob)
            print("browser client: ms per received frame (each with a new certificate): \(timings)")

            // The same page told to trust another root key (mainnet's): the canister's
            // certificates do not verify, so nothing is shown and the session is closed.
            let forged = try await browser.open(url + "?rootKey=" + Hex.encode(RootKey.mainnet.der))
            try await browser.waitUntil("window.chat?.state === 'closed'", in: forged, describe: "JSON.stringify(window.chat)")
            let errors = try await browser.evaluate("window.chat.errors.join(' | ')", in: forged)
            #expect(errors.contains("Certificate validation failed"), "\(errors)")
            #expect(try await browser.evaluate("window.chat.received.length", in: forged) == "0")
            // The others are unaffected.
            _ = try await browser.evaluate("window.chat.send('still here')", in: alice)
            try await browser.waitUntil("window.chat.received.includes('still here')", in: bob, describe: "JSON.stringify(window.chat)")
        }
    }

    @Test("the shell's Wasm ABI: errors come back as messages, calls are ordered, Candid matches the Swift encoder")
    func wasmABI() async throws {
        try await Self.withOpenPages(1) { browser, pages, _ in
            let page = pages[0]
            func check(_ script: String) async throws -> String {
                try await browser.evaluate(
                    "(async () => { const m = await import('./icws.js'); const s = await m.WasmSession.create(); \(script) })()",
                    in: page)
            }
            func failure(_ script: String) async throws -> String {
                try await check("try { \(script); return 'no error'; } catch (e) { return e.message; }")
            }
            // Configuration is checked.
            #expect(
                try await failure(
                    "s.configure({ canisterId: 'not a principal', rootKeyDER: new Uint8Array([1]), publicKeyDER: new Uint8Array([1]), clientNonce: 1n, ackTimeoutMilliseconds: 1000 })"
                ).contains("principal"))
            #expect(
                try await failure(
                    "s.configure({ canisterId: 'rwlgt-iiaaa-aaaaa-aaaaa-cai', rootKeyDER: new Uint8Array([1, 2, 3]), publicKeyDER: new Uint8Array([1]), clientNonce: 1n, ackTimeoutMilliseconds: 1000 })"
                ).contains("root key"))
            // Every call before configure names the missing step.
            #expect(try await failure("s.handshake(new Uint8Array([1, 2]))").contains("icws_configure was not called"))
            let configured = """
                const config = await (await fetch('./icws-config.json')).json();
                s.configure({ canisterId: config.canisterId, rootKeyDER: m.hexToBytes(config.rootKey), publicKeyDER: new Uint8Array(44), clientNonce: 7n, ackTimeoutMilliseconds: 1000 });
                """
            #expect(try await failure("\(configured) s.handshake(new Uint8Array([0xa1, 0x01]))").contains("invalid gateway handshake"))
            #expect(try await failure("\(configured) s.prepareCall(1, new Uint8Array([1]))").contains("not established"))
            #expect(try await failure("\(configured) s.finishCall(new Uint8Array(64))").contains("no call is waiting"))
            #expect(try await failure("\(configured) s.prepareCall(9)").contains("unknown call kind 9"))
            // A handshake, then ws_open: what is signed is "\x0Aic-request" and a 32-byte request id.
            let signed = try await check(
                """
                \(configured)
                s.handshake(new Uint8Array([0xa1, 0x71, ...new TextEncoder().encode('gateway_principal'), 0x41, 0x04]));
                const payload = s.prepareCall(0);
                const again = (() => { try { s.prepareCall(0); return 'no error'; } catch (e) { return e.message; } })();
                const frame = s.finishCall(new Uint8Array(64));
                return [payload.length, new TextDecoder().decode(payload.subarray(1, 11)), again.includes('already waiting'), frame.length > 100];
                """)
            #expect(signed == "[43,\"ic-request\",true,true]")
            // The shell's Candid for text records is what the Swift encoder reads.
            #expect(try await check("return m.fieldId('text')") == "\(CandidFieldID.hash("text"))")
            let encoded = try await check("return Array.from(m.encodeTextRecord({ from: 'ann', text: 'héllo' }))")
            let bytes = try JSONDecoder().decode([UInt8].self, from: Data(encoded.utf8))
            #expect(try Candid.decode(ChatMessage.self, from: bytes) == ChatMessage(from: "ann", text: "héllo"))
            let swiftBytes = try Candid.encode(ChatMessage(from: "bob", text: "hi"))
            #expect(
                try await check("return m.decodeTextRecord(new Uint8Array(\(swiftBytes)), ['from', 'text'])")
                    == "{\"from\":\"bob\",\"text\":\"hi\"}")
        }
    }
}
