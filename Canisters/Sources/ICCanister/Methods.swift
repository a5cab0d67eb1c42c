import CSupport
import ICCore

/// Entry-point helpers: decode the Candid argument, run the body, encode and send the reply.
///
/// A canister method is one exported function that calls one of these:
///
/// ```swift
/// @_expose(wasm, "canister_update greet") @_cdecl("canister_update_greet")
/// func greet() { Canister.update(String.self) { name in "Hello, \(name)!" } }
/// ```
///
/// Both attributes are required: `@_expose(wasm, "<IC export name>")` names the export, and
/// `@_cdecl` gives it the C calling convention (without it the export's type is
/// `(i32, i32) -> ()` and the IC rejects the module). Decoding failures and thrown
/// `CandidError`s trap with a readable message, so the caller sees why.
public enum Canister {
    /// An update method with one argument and one result.
    public static func method<A: CandidDecodable, R: CandidEncodable>(
        _ argument: A.Type, _ body: (A) -> R
    ) {
        let arg = decodeArgument(A.self)
        let result = body(arg)
        replyCandid(result)
        icws_flushOutput()
    }

    /// An update method (alias of `method`, for readability at the export).
    public static func update<A: CandidDecodable, R: CandidEncodable>(_ argument: A.Type, _ body: (A) -> R) {
        method(argument, body)
    }

    /// A query method. The end-of-message hooks do not run: queries cannot change certified
    /// data and their state changes are discarded.
    public static func query<A: CandidDecodable, R: CandidEncodable>(_ argument: A.Type, _ body: (A) -> R) {
        let arg = decodeArgument(A.self)
        let result = body(arg)
        replyCandid(result)
        icws_debug_flush()
    }

    /// A query method whose body writes the reply's Candid bytes itself (for hot paths that
    /// encode faster than the generic encoder).
    public static func query<A: CandidDecodable>(_ argument: A.Type, replyBytes body: (A) -> [UInt8]) {
        let arg = decodeArgument(A.self)
        let bytes = body(arg)
        Message.reply(bytes: bytes)
        icws_debug_flush()
    }

    /// An update method whose body writes the reply's Candid bytes itself.
    public static func update<A: CandidDecodable>(_ argument: A.Type, replyBytes body: (A) -> [UInt8]) {
        let arg = decodeArgument(A.self)
        Message.reply(bytes: body(arg))
        icws_flushOutput()
    }

    /// An update method that reads its argument with a direct decoder (e.g. one built on
    /// ``CandidWireReader``) and writes its reply's Candid bytes itself: a canister whose methods
    /// all do so links none of the generic Candid layer. A decoding error traps with its text.
    public static func update<A>(decoding decode: ([UInt8]) throws(CandidError) -> A, replyBytes body: (A) -> [UInt8]) {
        let arg = decodeArgument(decoding: decode)
        Message.reply(bytes: body(arg))
        icws_flushOutput()
    }

    /// A query method that reads its argument with a direct decoder and writes its reply's
    /// Candid bytes itself.
    public static func query<A>(decoding decode: ([UInt8]) throws(CandidError) -> A, replyBytes body: (A) -> [UInt8]) {
        let arg = decodeArgument(decoding: decode)
        Message.reply(bytes: body(arg))
        icws_debug_flush()
    }

    /// A query method without arguments that writes its reply's Candid bytes itself. The
    /// argument must still be a well-formed Candid message; any values in it are skipped (Candid
    /// lets a caller send more arguments than a method takes).
    public static func query(replyBytes body: () -> [UInt8]) {
        decodeArgument(decoding: { (bytes: [UInt8]) throws(CandidError) in
            var reader = try CandidWireReader(bytes)
            try reader.finish()
        })
        Message.reply(bytes: body())
        icws_debug_flush()
    }

    /// A method with two arguments whose body writes the reply's Candid bytes itself.
    public static func method<A: CandidDecodable, B: CandidDecodable>(
        _ a: A.Type, _ b: B.Type, replyBytes body: (A, B) -> [UInt8]
    ) {
        let decoded: (A, B)
        do {
            decoded = try Candid.decode(A.self, B.self, from: Message.argumentBytes())
        } catch {
            trap("failed to decode the arguments: \(error)")
        }
        Message.reply(bytes: body(decoded.0, decoded.1))
        icws_flushOutput()
    }

    /// A method with two arguments.
    public static func method<A: CandidDecodable, B: CandidDecodable, R: CandidEncodable>(
        _ a: A.Type, _ b: B.Type, _ body: (A, B) -> R
    ) {
        let bytes = Message.argumentBytes()
        let decoded: (A, B)
        do {
            decoded = try Candid.decode(A.self, B.self, from: bytes)
        } catch {
            trap("failed to decode the arguments: \(error)")
        }
        let result = body(decoded.0, decoded.1)
        replyCandid(result)
        icws_flushOutput()
    }

    /// A method without arguments.
    public static func method<R: CandidEncodable>(_ body: () -> R) {
        replyCandid(body())
        icws_flushOutput()
    }

    /// A method without arguments or result (replies `()`).
    public static func method(_ body: () -> Void) {
        body()
        Message.reply(bytes: Candid.encode())
        icws_flushOutput()
    }

    /// A method with one argument and no result (replies `()`).
    public static func method<A: CandidDecodable>(_ argument: A.Type, _ body: (A) -> Void) {
        let arg = decodeArgument(A.self)
        body(arg)
        Message.reply(bytes: Candid.encode())
        icws_flushOutput()
    }

    /// `canister_init` / `canister_post_upgrade` with an argument (no reply is sent).
    public static func initialize<A: CandidDecodable>(_ argument: A.Type, _ body: (A) -> Void) {
        body(decodeArgument(A.self))
        icws_flushOutput()
    }

    /// Decodes the message argument or traps.
    public static func decodeArgument<A: CandidDecodable>(_ type: A.Type) -> A {
        do {
            return try Candid.decode(A.self, from: Message.argumentBytes())
        } catch {
            trap("failed to decode the argument: \(error)")
        }
    }

    /// Decodes the message argument with a direct decoder or traps.
    public static func decodeArgument<A>(decoding decode: ([UInt8]) throws(CandidError) -> A) -> A {
        do throws(CandidError) {
            return try decode(Message.argumentBytes())
        } catch {
            trap("failed to decode the argument: \(error)")
        }
    }

    /// Replies with one Candid value or traps.
    public static func replyCandid<R: CandidEncodable>(_ value: R) {
        do {
            Message.reply(bytes: try Candid.encode(value))
        } catch {
            trap("failed to encode the reply: \(error)")
        }
    }

    /// Hooks run at the end of every entry point that uses these helpers (and of the global
    /// timer), e.g. to publish certified data once per message.
    nonisolated(unsafe) public static var endOfMessageHooks: [() -> Void] = []
}

/// Runs the end-of-message hooks and flushes buffered `print` output.
public func icws_flushOutput() {
    for hook in Canister.endOfMessageHooks { hook() }
    icws_debug_flush()
}
