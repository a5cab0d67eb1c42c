import ICCore
import ICWebSocketProtocol

/// The `ws_get_messages` reply written straight to Candid bytes.
///
/// The generic encoder builds a `CandidValue` tree of every message (its key, client key and
/// content) and walks it against the type table; at 50 messages a poll that was most of its
/// cost. The bytes here are exactly the generic encoder's (`Candid.encode(result)`; a host
/// test compares them): the type table comes from the generic encoder once, and the values
/// are written in field-id order:
///
/// - result: `Ok` (index 0, id 17724) before `Err` (3456837);
/// - batch: `messages`, `cert`, `tree`, `is_end_of_queue`;
/// - message: `key`, `content`, `client_key`; client key: `client_principal`, `client_nonce`.
public enum GetMessagesReply {
    /// `DIDL`, the type table and the argument type of `CanisterWsGetMessagesResult`, and the
    /// index of `Ok`.
    private struct Header {
        var bytes: [UInt8]
        var okIndex: UInt8
    }

    private static let header: Header = {
        // `Err("")` ends with its variant index and the empty text's length, one byte each.
        var bytes = (try? Candid.encode(CanisterWsGetMessagesResult.err(""))) ?? []
        let errIndex = bytes[bytes.count - 2]
        bytes.removeLast(2)
        return Header(bytes: bytes, okIndex: errIndex == 0 ? 1 : 0)
    }()

    /// The Candid encoding of `.ok(batch)`.
    public static func encode(_ batch: CanisterOutputCertifiedMessages) -> [UInt8] {
        var size = header.bytes.count + batch.cert.count + batch.tree.count + 32
        for message in batch.messages { size += message.content.count + message.key.utf8.count + 64 }
        var out = [UInt8]()
        out.reserveCapacity(size)
        out.append(contentsOf: header.bytes)
        out.append(header.okIndex)
        LEB128.encode(UInt64(batch.messages.count), into: &out)
        for message in batch.messages {
            appendText(message.key, to: &out)
            appendBlob(message.content, to: &out)
            out.append(1)
            appendBlob(message.clientKey.clientPrincipal.bytes, to: &out)
            appendNat64(message.clientKey.clientNonce, to: &out)
        }
        appendBlob(batch.cert, to: &out)
        appendBlob(batch.tree, to: &out)
        out.append(batch.isEndOfQueue ? 1 : 0)
        return out
    }

    @inline(__always)
    private static func appendBlob(_ bytes: [UInt8], to out: inout [UInt8]) {
        LEB128.encode(UInt64(bytes.count), into: &out)
        out.append(contentsOf: bytes)
    }

    @inline(__always)
    private static func appendText(_ text: String, to out: inout [UInt8]) {
        var text = text
        text.withUTF8 { utf8 in
            LEB128.encode(UInt64(utf8.count), into: &out)
            out.append(contentsOf: utf8)
        }
    }

    @inline(__always)
    private static func appendNat64(_ value: UInt64, to out: inout [UInt8]) {
        for shift in stride(from: UInt64(0), to: 64, by: 8) { out.append(UInt8(truncatingIfNeeded: value >> shift)) }
    }
}
