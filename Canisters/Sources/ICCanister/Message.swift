import CSupport
import ICCore

/// The current message: argument, caller, reply and reject, traps (System API §10).
///
/// All functions here act on the message being executed; the IC runs one at a time, so there
/// is no concurrency to guard against.
public enum Message {
    /// The argument bytes (`msg_arg_data_*`).
    public static func argumentBytes() -> [UInt8] {
        let size = Int(ic0_msg_arg_data_size())
        if size == 0 { return [] }
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            ic0_msg_arg_data_copy(buffer.baseAddress, 0, Int32(size))
            count = size
        }
    }

    /// The caller's principal.
    public static func caller() -> Principal {
        let size = Int(ic0_msg_caller_size())
        let bytes = [UInt8](unsafeUninitializedCapacity: max(size, 1)) { buffer, count in
            if size > 0 { ic0_msg_caller_copy(buffer.baseAddress, 0, Int32(size)) }
            count = size
        }
        return unwrapOrTrap(try? Principal(bytes: bytes), "caller is not a principal")
    }

    /// Replies with raw bytes.
    public static func reply(bytes: [UInt8]) {
        bytes.withUnsafeBytes { ic0_msg_reply_data_append($0.baseAddress, Int32($0.count)) }
        ic0_msg_reply()
    }

    /// Rejects the call with a message (the caller sees reject code 4).
    public static func reject(_ message: UTF8Text) {
        message.utf8.withUnsafeBytes { ic0_msg_reject($0.baseAddress, Int32($0.count)) }
    }
}

/// Traps with a message: the call is rolled back and the caller sees the text. Embedded
/// Swift's own runtime failures (`fatalError`, out-of-bounds, force-unwrap of nil) trap with
/// a bare `unreachable` and no text, so code that wants a reject message calls this.
public func trap(_ message: UTF8Text) -> Never {
    icws_debug_flush()
    message.utf8.withUnsafeBytes { ic0_trap($0.baseAddress, Int32($0.count)) }
    // ic0.trap never returns; this only tells the compiler so.
    fatalError()
}

/// `value` or a trap with `message`.
public func unwrapOrTrap<T>(_ value: T?, _ message: @autoclosure () -> UTF8Text) -> T {
    guard let value else { trap(message()) }
    return value
}

/// Writes one line to the canister log (`ic0.debug_print`); `print()` works too.
public func debugPrint(_ message: UTF8Text) {
    message.utf8.withUnsafeBytes { ic0_debug_print($0.baseAddress, Int32($0.count)) }
}

/// The canister's own principal.
public func canisterSelf() -> Principal {
    let size = Int(ic0_canister_self_size())
    let bytes = [UInt8](unsafeUninitializedCapacity: max(size, 1)) { buffer, count in
        ic0_canister_self_copy(buffer.baseAddress, 0, Int32(size))
        count = size
    }
    return unwrapOrTrap(try? Principal(bytes: bytes), "self is not a principal")
}

/// IC time in nanoseconds since 1970 (constant within one message).
public func currentTime() -> UInt64 { UInt64(bitPattern: ic0_time()) }

/// Whether `principal` controls this canister.
public func isController(_ principal: Principal) -> Bool {
    principal.bytes.withUnsafeBytes { ic0_is_controller($0.baseAddress, Int32($0.count)) } == 1
}

/// Whether this message runs in replicated mode (updates, replicated queries).
public func inReplicatedExecution() -> Bool { ic0_in_replicated_execution() == 1 }

/// Wasm instructions executed so far in the current message (`ic0.performance_counter(0)`):
/// for measuring what a piece of code costs in cycles.
public func instructionCounter() -> UInt64 { UInt64(bitPattern: ic0_performance_counter(0)) }
