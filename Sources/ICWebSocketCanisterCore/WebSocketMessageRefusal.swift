import ICCore

/// An application's reason for refusing one client message, thrown by
/// `WebSocketHandlers.onMessage`.
///
/// `ws_message` then replies `Err(reason)` instead of `Ok`. The message's sequence number is
/// still consumed and the session stays open: the refusal is about the content, not the
/// protocol, so the client's next message (with the next sequence number) is accepted. The
/// gateway logs the `Err`; a client that checks its call outcomes (see `docs/CALL-OUTCOMES.md`)
/// reads it from its own request status.
///
/// A concrete error type (not `any Error`) so Embedded Swift can compile handlers that throw it.
public struct WebSocketMessageRefusal: Error, Equatable, Sendable {
    /// Shown to the client and in the gateway's log, e.g. the Candid decoding error.
    public var reason: UTF8Text

    public init(_ reason: UTF8Text) { self.reason = reason }
}

extension WebSocketMessageRefusal {
    /// Decodes a client message as the application's type, or refuses it with the Candid
    /// error, e.g. `cannot decode the message as ChatMessage: …`. `typeName` is the name in
    /// the canister's `.did`, so the text tells the client what it should have sent.
    public static func decode<T: CandidDecodable>(
        _ type: T.Type, named typeName: UTF8Text, from bytes: [UInt8]
    ) throws(WebSocketMessageRefusal) -> T {
        do {
            return try Candid.decode(type, from: bytes)
        } catch {
            throw WebSocketMessageRefusal("cannot decode the message as \(typeName): \(error)")
        }
    }

    /// Decodes a client message with a direct decoder (``CandidWireReader``, so the canister
    /// need not link the generic Candid decoder), or refuses it as ``decode(_:named:from:)``
    /// does. `read` gets the reader and the wire type of the message's first value; arguments
    /// after it are skipped and validated, trailing bytes refused.
    public static func decode<T>(
        named typeName: UTF8Text, from bytes: [UInt8],
        reading read: (inout CandidWireReader, _ type: Int) throws(CandidError) -> T
    ) throws(WebSocketMessageRefusal) -> T {
        do throws(CandidError) {
            var reader = try CandidWireReader(bytes)
            let value = try read(&reader, try reader.nextArgument())
            try reader.finish()
            return value
        } catch {
            throw WebSocketMessageRefusal("cannot decode the message as \(typeName): \(error)")
        }
    }
}
