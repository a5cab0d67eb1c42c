import ICCore
import WasmKit

/// The host side of the canister: the current message context and guest memory, shared by all
/// ic0 host functions of one instance.
final class HostState {
    var context: ExecutionContext
    var memory: Memory?

    init(context: ExecutionContext) { self.context = context }

    /// Guest bytes `[address, address + count)`; out of bounds is a trap, never a host crash
    /// (WasmKit's own accessors only `precondition` their bounds).
    func read(_ address: UInt64, _ count: UInt64) throws -> [UInt8] {
        guard let memory else { throw ExecutionTrap(message: "the canister has no memory") }
        guard address + count <= UInt64(memory.byteCount) else {
            throw ExecutionTrap(message: "memory access out of bounds: \(address)+\(count) exceeds \(memory.byteCount) bytes")
        }
        if count == 0 { return [] }
        return memory.withUnsafeBufferPointer(offset: UInt(address), count: Int(count)) { Array($0) }
    }

    func write(_ bytes: ArraySlice<UInt8>, at address: UInt64) throws {
        guard let memory else { throw ExecutionTrap(message: "the canister has no memory") }
        guard address + UInt64(bytes.count) <= UInt64(memory.byteCount) else {
            throw ExecutionTrap(message: "memory access out of bounds: \(address)+\(bytes.count) exceeds \(memory.byteCount) bytes")
        }
        if bytes.isEmpty { return }
        memory.withUnsafeMutableBufferPointer(offset: UInt(address), count: bytes.count) { buffer in
            bytes.withUnsafeBytes { buffer.copyMemory(from: $0) }
        }
    }

    /// `*_copy(dst, offset, size)` of `source`: both ranges are checked.
    func copy(_ source: [UInt8], destination: UInt64, offset: UInt64, size: UInt64, what: String) throws {
        guard offset + size <= UInt64(source.count) else {
            throw ExecutionTrap(message: "ic0.\(what): offset \(offset) + size \(size) exceeds the source length \(source.count)")
        }
        try write(source[Int(offset)..<Int(offset + size)], at: destination)
    }

    func require(_ allowed: Bool, _ function: String) throws {
        guard allowed else {
            throw ExecutionTrap(message: "ic0.\(function) cannot be called from \(context.kind)")
        }
    }
}

/// The ic0 System API (essentials §10) as WasmKit host functions.
enum SystemAPI {
    typealias Body = (HostState, borrowing Caller, UnsafeBufferPointer<Value>, UnsafeMutableBufferPointer<Value>) throws -> Void

    static let pageSize: UInt64 = 65_536

    /// Defines every ic0 function the module imports.
    static func imports(for binary: WasmBinary, store: Store, host: HostState) -> Imports {
        var imports = Imports()
        for entry in binary.imports where entry.module == "ic0" {
            guard let signature = ModuleValidator.ic0Signatures[entry.name] else { continue }
            let body = implementation(entry.name)
            let function = Function(
                store: store, parameters: signature.parameters.map(valueType),
                results: signature.results.map(valueType),
                raw: { [unowned host] caller, arguments, results in
                    try body(host, caller, arguments, results)
                })
            imports.define(module: "ic0", name: entry.name, function)
        }
        return imports
    }

    private static func valueType(_ type: WasmBinary.ValueType) -> ValueType {
        type == .i64 ? .i64 : .i32
    }

    private static func u(_ value: Value) -> UInt64 {
        switch value {
        case .i32(let v): return UInt64(v)
        case .i64(let v): return v
        default: return 0
        }
    }

    // swiftlint:disable:next cyclomatic_complexity function_body_length
    private static func implementation(_ name: String) -> Body {
        switch name {
        case "msg_arg_data_size":
            return { h, _, _, r in
                try h.require(h.context.kind.hasArgument, name)
                r[0] = .i32(UInt32(h.context.argument.count))
            }
        case "msg_arg_data_copy":
            return { h, _, a, _ in
                try h.require(h.context.kind.hasArgument, name)
                try h.copy(h.context.argument, destination: u(a[0]), offset: u(a[1]), size: u(a[2]), what: name)
            }
        case "msg_caller_size":
            return { h, _, _, r in r[0] = .i32(UInt32(h.context.caller.bytes.count)) }
        case "msg_caller_copy":
            return { h, _, a, _ in try h.copy(h.context.caller.bytes, destination: u(a[0]), offset: u(a[1]), size: u(a[2]), what: name) }
        case "msg_reject_code", "msg_reject_msg_size", "msg_reject_msg_copy", "msg_cycles_refunded128", "msg_cycles_refunded":
            // Only valid in inter-canister call callbacks, which this replica never runs.
            return { h, _, _, _ in try h.require(false, name) }
        case "msg_reply_data_append":
            return { h, _, a, _ in
                try h.require(h.context.kind.canReply, name)
                guard h.context.response == nil else {
                    throw ExecutionTrap(message: "ic0.msg_reply_data_append: the message was already replied to")
                }
                let bytes = try h.read(u(a[0]), u(a[1]))
                guard h.context.replyBuffer.count + bytes.count <= 3 << 20 else {
                    throw ExecutionTrap(message: "ic0.msg_reply_data_append: the reply exceeds 3 MiB")
                }
                h.context.replyBuffer += bytes
            }
        case "msg_reply":
            return { h, _, _, _ in
                try h.require(h.context.kind.canReply, name)
                guard h.context.response == nil else { throw ExecutionTrap(message: "ic0.msg_reply: the message was already replied to") }
                h.context.response = .reply(h.context.replyBuffer)
            }
        case "msg_reject":
            return { h, _, a, _ in
                try h.require(h.context.kind.canReply, name)
                guard h.context.response == nil else { throw ExecutionTrap(message: "ic0.msg_reject: the message was already replied to") }
                let bytes = try h.read(u(a[0]), u(a[1]))
                guard let text = String(validating: bytes, as: UTF8.self) else {
                    throw ExecutionTrap(message: "ic0.msg_reject: the message is not valid UTF-8")
                }
                h.context.response = .reject(text)
            }
        case "msg_method_name_size":
            return { h, _, _, r in
                try h.require(h.context.kind == .inspect, name)
                r[0] = .i32(UInt32(h.context.methodName.utf8.count))
            }
        case "msg_method_name_copy":
            return { h, _, a, _ in
                try h.require(h.context.kind == .inspect, name)
                try h.copy(Array(h.context.methodName.utf8), destination: u(a[0]), offset: u(a[1]), size: u(a[2]), what: name)
            }
        case "accept_message":
            return { h, _, _, _ in
                try h.require(h.context.kind == .inspect, name)
                guard !h.context.accepted else { throw ExecutionTrap(message: "ic0.accept_message: called twice") }
                h.context.accepted = true
            }
        case "msg_deadline":
            return { _, _, _, r in r[0] = .i64(0) }
        case "msg_cycles_available128":
            // Ingress messages carry no cycles.
            return { h, _, a, _ in try h.write(ArraySlice(repeating: 0, count: 16), at: u(a[0])) }
        case "msg_cycles_accept128":
            return { h, _, a, _ in try h.write(ArraySlice(repeating: 0, count: 16), at: u(a[2])) }
        case "msg_cycles_available", "msg_cycles_accept":
            return { _, _, _, r in r[0] = .i64(0) }
        case "canister_self_size":
            return { h, _, _, r in r[0] = .i32(UInt32(h.context.canisterID.bytes.count)) }
        case "canister_self_copy":
            return { h, _, a, _ in try h.copy(h.context.canisterID.bytes, destination: u(a[0]), offset: u(a[1]), size: u(a[2]), what: name)
            }
        case "canister_cycle_balance128", "canister_liquid_cycle_balance128":
            return { h, _, a, _ in
                var bytes = [UInt8](repeating: 0, count: 16)
                for i in 0..<8 { bytes[i] = UInt8(truncatingIfNeeded: h.context.cycleBalance >> (8 * UInt64(i))) }
                try h.write(bytes[...], at: u(a[0]))
            }
        case "canister_cycle_balance":
            return { h, _, _, r in r[0] = .i64(h.context.cycleBalance) }
        case "canister_status":
            return { h, _, _, r in r[0] = .i32(h.context.isStopping ? 2 : 1) }
        case "canister_version":
            return { h, _, _, r in r[0] = .i64(h.context.canisterVersion) }
        case "call_new", "call_data_append", "call_cycles_add128", "call_cycles_add", "call_on_cleanup", "call_with_best_effort_response":
            // Inter-canister calls are not supported: the call is assembled and then refused by
            // call_perform, which the canister sees as "could not enqueue".
            return { h, _, _, _ in
                try h.require(
                    h.context.kind.mayChangeState && h.context.kind != .install && h.context.kind != .preUpgrade
                        && h.context.kind != .postUpgrade, name)
            }
        case "call_perform":
            return { h, _, _, r in
                try h.require(h.context.kind.mayChangeState, name)
                r[0] = .i32(2)
            }
        case "stable64_size":
            return { h, _, _, r in r[0] = .i64(UInt64(h.context.stableMemory.count) / pageSize) }
        case "stable_size":
            return { h, _, _, r in r[0] = .i32(UInt32(truncatingIfNeeded: UInt64(h.context.stableMemory.count) / pageSize)) }
        case "stable64_grow", "stable_grow":
            let is32 = name == "stable_grow"
            return { h, _, a, r in
                let old = UInt64(h.context.stableMemory.count) / pageSize
                let add = u(a[0])
                let limit = is32 ? min(h.context.maxStablePages, 65_536) : h.context.maxStablePages
                if add > limit || old + add > limit {
                    r[0] = is32 ? .i32(UInt32.max) : .i64(UInt64.max)
                    return
                }
                h.context.stableMemory += [UInt8](repeating: 0, count: Int(add * pageSize))
                r[0] = is32 ? .i32(UInt32(old)) : .i64(old)
            }
        case "stable64_write", "stable_write":
            return { h, _, a, _ in
                let offset = u(a[0]), src = u(a[1]), size = u(a[2])
                guard offset.addingReportingOverflow(size).overflow == false, offset + size <= UInt64(h.context.stableMemory.count) else {
                    throw ExecutionTrap(message: "ic0.\(name): stable memory access out of bounds")
                }
                let bytes = try h.read(src, size)
                h.context.stableMemory.replaceSubrange(Int(offset)..<Int(offset + size), with: bytes)
            }
        case "stable64_read", "stable_read":
            return { h, _, a, _ in
                let dst = u(a[0]), offset = u(a[1]), size = u(a[2])
                guard offset.addingReportingOverflow(size).overflow == false, offset + size <= UInt64(h.context.stableMemory.count) else {
                    throw ExecutionTrap(message: "ic0.\(name): stable memory access out of bounds")
                }
                try h.write(h.context.stableMemory[Int(offset)..<Int(offset + size)], at: dst)
            }
        case "certified_data_set":
            return { h, _, a, _ in
                try h.require(h.context.kind.mayChangeState, name)
                let size = u(a[1])
                guard size <= 32 else { throw ExecutionTrap(message: "ic0.certified_data_set: \(size) bytes; at most 32 are allowed") }
                h.context.certifiedData = try h.read(u(a[0]), size)
            }
        case "data_certificate_present":
            return { h, _, _, r in r[0] = .i32(h.context.dataCertificate == nil ? 0 : 1) }
        case "data_certificate_size":
            return { h, _, _, r in
                guard let certificate = h.context.dataCertificate else {
                    throw ExecutionTrap(message: "ic0.data_certificate_size: no certificate is present")
                }
                r[0] = .i32(UInt32(certificate.count))
            }
        case "data_certificate_copy":
            return { h, _, a, _ in
                guard let certificate = h.context.dataCertificate else {
                    throw ExecutionTrap(message: "ic0.data_certificate_copy: no certificate is present")
                }
                try h.copy(certificate, destination: u(a[0]), offset: u(a[1]), size: u(a[2]), what: name)
            }
        case "root_key_size":
            return { h, _, _, r in
                try h.require(h.context.kind.isReplicated, name)
                r[0] = .i32(UInt32(h.context.rootKeyDER.count))
            }
        case "root_key_copy":
            return { h, _, a, _ in
                try h.require(h.context.kind.isReplicated, name)
                try h.copy(h.context.rootKeyDER, destination: u(a[0]), offset: u(a[1]), size: u(a[2]), what: name)
            }
        case "time":
            return { h, _, _, r in r[0] = .i64(h.context.time) }
        case "global_timer_set":
            return { h, _, a, r in
                try h.require(h.context.kind.mayChangeState, name)
                r[0] = .i64(h.context.globalTimer)
                h.context.globalTimer = u(a[0])
            }
        case "performance_counter":
            return { h, caller, a, r in
                guard u(a[0]) <= 1 else { throw ExecutionTrap(message: "ic0.performance_counter: unknown counter type \(u(a[0]))") }
                let remaining = caller.store.fuel?.remaining ?? h.context.fuelBudget
                r[0] = .i64(h.context.fuelBudget &- remaining)
            }
        case "is_controller":
            return { h, _, a, r in
                let bytes = try h.read(u(a[0]), u(a[1]))
                guard let principal = try? Principal(bytes: bytes) else {
                    throw ExecutionTrap(message: "ic0.is_controller: the argument is not a valid principal")
                }
                r[0] = .i32(h.context.controllers.contains(principal) ? 1 : 0)
            }
        case "in_replicated_execution":
            return { h, _, _, r in r[0] = .i32(h.context.kind.isReplicated ? 1 : 0) }
        case "debug_print":
            return { h, _, a, _ in
                // Never traps (essentials §10): an out-of-range message prints as such.
                let size = min(u(a[1]), 64 << 10)
                let text = (try? h.read(u(a[0]), size)).map { String(decoding: $0, as: UTF8.self) } ?? "<debug_print out of bounds>"
                if h.context.debugPrints.count < 1_000 { h.context.debugPrints.append(text) }
            }
        case "trap":
            return { h, _, a, _ in
                let size = min(u(a[1]), 16 << 10)
                let text = (try? h.read(u(a[0]), size)).map { String(decoding: $0, as: UTF8.self) } ?? "<trap message out of bounds>"
                throw ExecutionTrap(message: text, explicit: true)
            }
        default:
            return { h, _, _, _ in try h.require(false, name) }
        }
    }
}
