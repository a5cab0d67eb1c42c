import ICCertification
import ICCore
import ICWebSocketClient
import ICWebSocketProtocol

// The module's ABI (documented in docs/BROWSER-CLIENT.md). One instance holds one session; the
// shell instantiates the module once per IcWebSocket. Bytes travel through two buffers in linear
// memory: the shell asks `icws_input(n)` for room, writes its input there and calls a function
// with the length; a function that produces bytes returns their count and leaves them at
// `icws_output()`. A negative result r means failure: the UTF-8 reason, -1 - r bytes long, is
// in the output buffer.
//
// Times are nanoseconds since 1970 (i64), passed by the shell with every call that needs one.
// The module is single-threaded (the browser's event loop), hence the `nonisolated(unsafe)` state.

nonisolated(unsafe) private var inputBuffer = ExchangeBuffer()
nonisolated(unsafe) private var outputBuffer = ExchangeBuffer()
nonisolated(unsafe) private var session: WebClient?
nonisolated(unsafe) private var shellTime: UInt64 = 0

/// A growable byte buffer at a stable address (until it grows), shared with JavaScript.
struct ExchangeBuffer {
    private(set) var pointer: UnsafeMutablePointer<UInt8>?
    private(set) var capacity = 0

    mutating func reserve(_ count: Int) -> UnsafeMutablePointer<UInt8>? {
        if count > capacity {
            pointer?.deallocate()
            capacity = max(count, 2 * capacity, 256)
            pointer = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        }
        return pointer
    }

    func bytes(_ count: Int) -> [UInt8] {
        guard let pointer, count > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: pointer, count: min(count, capacity)))
    }

    mutating func store(_ bytes: [UInt8]) -> Int32 {
        guard let destination = reserve(bytes.count) else { return Int32(bytes.count) }
        bytes.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { destination.update(from: base, count: bytes.count) }
        }
        return Int32(bytes.count)
    }
}

/// Stores `reason` as the output and returns `-1 - its length` (a failure).
private func fail(_ reason: String) -> Int32 {
    -1 - outputBuffer.store(Array(reason.utf8))
}

private func input(_ length: Int32) -> [UInt8] {
    inputBuffer.bytes(Int(max(0, length)))
}

/// Room for `size` bytes of input; the address stays valid until the next `icws_input`.
@_expose(wasm, "icws_input") @_cdecl("icws_input")
func icwsInput(_ size: Int32) -> UnsafeMutablePointer<UInt8>? {
    inputBuffer.reserve(Int(max(1, size)))
}

/// Where the last result's bytes are.
@_expose(wasm, "icws_output") @_cdecl("icws_output")
func icwsOutput() -> UnsafeMutablePointer<UInt8>? {
    outputBuffer.reserve(1)
}

/// Starts a session. Input: the canister id's text (UTF-8) ‖ root key DER ‖ the client's Ed25519 public key
/// DER, with the given lengths. `maxCertificateAgeSeconds` ≤ 0 disables the age check (only
/// for recorded fixtures); `ackTimeoutMilliseconds` is the canister's ack interval + allowance.
@_expose(wasm, "icws_configure") @_cdecl("icws_configure")
func icwsConfigure(
    _ canisterLength: Int32, _ rootKeyLength: Int32, _ publicKeyLength: Int32, _ clientNonce: UInt64,
    _ maxCertificateAgeSeconds: Int32, _ ackTimeoutMilliseconds: Int64
) -> Int32 {
    let bytes = input(canisterLength + rootKeyLength + publicKeyLength)
    let canisterEnd = Int(canisterLength)
    let rootKeyEnd = canisterEnd + Int(rootKeyLength)
    guard canisterLength > 0, rootKeyLength > 0, publicKeyLength > 0, bytes.count == rootKeyEnd + Int(publicKeyLength) else {
        return fail("icws_configure: expected canister id, root key and public key bytes")
    }
    let canister: Principal
    do { canister = try Principal(text: String(decoding: bytes[0..<canisterEnd], as: UTF8.self)) } catch {
        return fail("the canister id is not a principal's text form: \(error.description)")
    }
    let rootKey: RootKey
    do { rootKey = try RootKey(der: Array(bytes[canisterEnd..<rootKeyEnd])) } catch {
        return fail("the root key is not a DER BLS12-381 public key: \(error.description)")
    }
    session = WebClient(
        canister: canister, rootKey: rootKey, publicKeyDER: Array(bytes[rootKeyEnd...]), clientNonce: clientNonce,
        maxCertificateAge: maxCertificateAgeSeconds > 0 ? .seconds(Int64(maxCertificateAgeSeconds)) : nil,
        ackTimeout: .milliseconds(ackTimeoutMilliseconds), clock: { shellTime })
    return 0
}

/// The gateway's handshake frame (the first one on the WebSocket).
@_expose(wasm, "icws_handshake") @_cdecl("icws_handshake")
func icwsHandshake(_ length: Int32, _ now: UInt64) -> Int32 {
    shellTime = now
    guard session != nil else { return fail("icws_configure was not called") }
    do { try session!.receiveHandshake(input(length)) } catch { return fail(error.description) }
    return 0
}

/// A frame from the gateway after the handshake. Output: one event byte (`WebClient.Event`),
/// then, for a message, its Candid bytes.
@_expose(wasm, "icws_receive") @_cdecl("icws_receive")
func icwsReceive(_ length: Int32, _ now: UInt64) -> Int32 {
    shellTime = now
    guard session != nil else { return fail("icws_configure was not called") }
    do {
        let (event, content) = try session!.receive(input(length))
        return outputBuffer.store([event.rawValue] + content)
    } catch {
        return fail(error.description)
    }
}

/// Prepares a call (`kind`: 0 ws_open, 1 application message, 2 the due keep-alive). Input: 16
/// random nonce bytes ‖ the application message's Candid bytes (kind 1). Output: the bytes the
/// shell must sign with the client's Ed25519 key.
@_expose(wasm, "icws_prepare_call") @_cdecl("icws_prepare_call")
func icwsPrepareCall(_ kind: Int32, _ length: Int32, _ now: UInt64) -> Int32 {
    shellTime = now
    guard session != nil else { return fail("icws_configure was not called") }
    guard let callKind = WebClient.CallKind(rawValue: kind) else { return fail("unknown call kind \(kind)") }
    let bytes = input(length)
    guard bytes.count >= 16 else { return fail("icws_prepare_call: the input must start with 16 nonce bytes") }
    do {
        let payload = try session!.prepareCall(callKind, nonce: Array(bytes[0..<16]), application: Array(bytes[16...]), now: now)
        return outputBuffer.store(payload)
    } catch {
        return fail(error.description)
    }
}

/// Input: the signature of the prepared call. Output: the frame to send to the gateway.
@_expose(wasm, "icws_finish_call") @_cdecl("icws_finish_call")
func icwsFinishCall(_ length: Int32) -> Int32 {
    guard session != nil else { return fail("icws_configure was not called") }
    do { return outputBuffer.store(try session!.finishCall(signature: input(length))) } catch { return fail(error.description) }
}

/// The ack deadline; the shell calls it about once a second. Fails when the gateway withholds
/// the canister's acknowledgements (then the shell closes the connection).
@_expose(wasm, "icws_tick") @_cdecl("icws_tick")
func icwsTick(_ now: UInt64) -> Int32 {
    shellTime = now
    guard let session else { return 0 }
    do { try session.checkDeadlines() } catch { return fail(error.description) }
    return 0
}

/// Ends the session (the WebSocket closed).
@_expose(wasm, "icws_close") @_cdecl("icws_close")
func icwsClose() {
    session?.close()
}
