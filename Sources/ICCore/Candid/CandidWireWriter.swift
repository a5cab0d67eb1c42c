/// Writes a Candid message whose type table is fixed ahead of time: the counterpart of
/// ``CandidWireReader`` for direct encoders of a few fixed types (the WebSocket protocol's
/// arguments and replies, an application's message type), so that a canister need not link the
/// generic encoder (`CandidValue` trees, type tables built per call).
///
/// The caller starts from the message's header (`DIDL`, the type table, the argument types,
/// written once as a constant and checked against ``CandidEncoder``'s output by a test) and
/// appends each value in wire order: record fields and variant cases in field-id order.
public struct CandidWireWriter: Sendable {
    /// The message so far.
    public private(set) var bytes: [UInt8]

    /// Starts a message with `header`, reserving room for `capacity` bytes of values.
    public init(header: [UInt8], capacity: Int = 0) {
        bytes = []
        bytes.reserveCapacity(header.count + capacity)
        bytes.append(contentsOf: header)
    }

    /// One raw byte: a `bool`, an `opt` tag, a `nat8`, a variant index below 128.
    public mutating func byte(_ value: UInt8) { bytes.append(value) }

    /// An unsigned LEB128 number: a `nat`, a length, a variant index.
    public mutating func leb(_ value: UInt64) { LEB128.encode(value, into: &bytes) }

    public mutating func bool(_ value: Bool) { bytes.append(value ? 1 : 0) }

    /// A `nat64`: eight bytes, little-endian.
    public mutating func nat64(_ value: UInt64) {
        for index in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(index)))) }
    }

    /// A `text`: its UTF-8 length and bytes.
    public mutating func text(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            leb(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    /// A `text` given as UTF-8 bytes (the caller vouches they are valid UTF-8).
    public mutating func text(utf8: [UInt8]) {
        leb(UInt64(utf8.count))
        bytes.append(contentsOf: utf8)
    }

    /// A `blob` (`vec nat8`): its length and bytes.
    public mutating func blob(_ value: [UInt8]) {
        leb(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    /// A `principal`: the reference tag (1, transparent), its length and bytes.
    public mutating func principal(_ value: Principal) {
        bytes.append(1)
        blob(value.bytes)
    }
}
