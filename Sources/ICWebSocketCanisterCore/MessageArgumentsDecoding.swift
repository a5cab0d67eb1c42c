import ICCore
import ICWebSocketProtocol

/// A fast path for decoding `ws_message`'s first argument, `CanisterWsMessageArguments`.
///
/// The generic decoder builds a `CandidValue` tree, checks subtyping and coerces; for this small
/// record that was ~160 k of the ~250 k instructions a `ws_message` cost. Client SDKs send the
/// exact type, so this reads the type table and accepts only that type (any table order, any
/// field order on the wire being impossible as fields are sorted by id):
///
/// `record { msg : record { client_key : record { client_principal : principal; client_nonce :
/// nat64 }; sequence_num : nat64; timestamp : nat64; is_service_message : bool; content : blob } }`
///
/// Anything else (extra or optional fields, other types, a table entry it does not parse) makes
/// it return `nil`, and the caller uses the generic decoder. It is laxer than the generic
/// decoder in one way only: it does not validate the values of the arguments after the first
/// (`ws_message` ignores its `opt AppMessage` anyway) nor table entries the first does not use.
public enum WsMessageArgumentsDecoder {
    private static let msgID = CandidFieldID.hash("msg")
    private static let clientKeyID = CandidFieldID.hash("client_key")
    private static let sequenceNumID = CandidFieldID.hash("sequence_num")
    private static let timestampID = CandidFieldID.hash("timestamp")
    private static let isServiceMessageID = CandidFieldID.hash("is_service_message")
    private static let contentID = CandidFieldID.hash("content")
    private static let clientPrincipalID = CandidFieldID.hash("client_principal")
    private static let clientNonceID = CandidFieldID.hash("client_nonce")

    private enum Entry {
        case record([(id: UInt32, type: Int64)])
        case vec(Int64)
        case other
    }

    private struct Reader {
        let bytes: [UInt8]
        var position = 0

        mutating func byte() -> UInt8? {
            guard position < bytes.count else { return nil }
            position += 1
            return bytes[position - 1]
        }

        mutating func uleb() -> UInt64? {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard let byte = byte(), shift < 64 else { return nil }
                result |= UInt64(byte & 0x7f) << shift
                if byte < 0x80 { return result }
                shift += 7
            }
        }

        mutating func sleb() -> Int64? {
            var result: Int64 = 0
            var shift: Int64 = 0
            while true {
                guard let byte = byte(), shift < 64 else { return nil }
                result |= Int64(byte & 0x7f) << shift
                shift += 7
                if byte < 0x80 {
                    if shift < 64 && byte & 0x40 != 0 { result |= -1 << shift }
                    return result
                }
            }
        }

        mutating func nat64() -> UInt64? {
            guard bytes.count - position >= 8 else { return nil }
            var value: UInt64 = 0
            for index in 0..<8 { value |= UInt64(bytes[position + index]) << UInt64(8 * index) }
            position += 8
            return value
        }

        mutating func blob(maximum: Int) -> [UInt8]? {
            guard let count = uleb(), count <= UInt64(maximum), UInt64(bytes.count - position) >= count else { return nil }
            let start = position
            position += Int(count)
            return Array(bytes[start..<position])
        }
    }

    /// The first argument, or `nil` when the message is not in the exact expected form.
    public static func decode(_ bytes: [UInt8]) -> CanisterWsMessageArguments? {
        var reader = Reader(bytes: bytes)
        guard bytes.count > 4, bytes[0] == 0x44, bytes[1] == 0x49, bytes[2] == 0x44, bytes[3] == 0x4c else { return nil }
        reader.position = 4
        guard let tableSize = reader.uleb(), tableSize <= 64 else { return nil }
        var table = [Entry]()
        for _ in 0..<tableSize {
            guard let opcode = reader.sleb() else { return nil }
            switch opcode {
            case -20, -21:
                guard let count = reader.uleb(), count <= 64 else { return nil }
                var fields = [(id: UInt32, type: Int64)]()
                for _ in 0..<count {
                    guard let id = reader.uleb(), id <= UInt64(UInt32.max), let type = reader.sleb() else { return nil }
                    if let last = fields.last, UInt32(id) <= last.id { return nil }
                    fields.append((id: UInt32(id), type: type))
                }
                table.append(opcode == -20 ? .record(fields) : .other)
            case -18, -19:
                guard let type = reader.sleb() else { return nil }
                table.append(opcode == -19 ? .vec(type) : .other)
            default:
                return nil
            }
        }
        guard let argumentCount = reader.uleb(), argumentCount >= 1, argumentCount <= 64 else { return nil }
        var argumentTypes = [Int64]()
        for _ in 0..<argumentCount {
            guard let type = reader.sleb() else { return nil }
            argumentTypes.append(type)
        }
        for type in argumentTypes where type >= Int64(table.count) { return nil }

        func record(_ type: Int64) -> [(id: UInt32, type: Int64)]? {
            guard type >= 0, type < Int64(table.count), case .record(let fields) = table[Int(type)] else { return nil }
            return fields
        }
        func isBlob(_ type: Int64) -> Bool {
            guard type >= 0, type < Int64(table.count), case .vec(let element) = table[Int(type)] else { return false }
            return element == -5
        }
        // The exact shape, fields in id order.
        guard let outer = record(argumentTypes[0]), outer.count == 1, outer[0].id == msgID,
            let message = record(outer[0].type), message.count == 5
        else { return nil }
        var key: [(id: UInt32, type: Int64)]?
        for field in message {
            switch field.id {
            case clientKeyID: key = record(field.type)
            case sequenceNumID, timestampID: guard field.type == -8 else { return nil }
            case isServiceMessageID: guard field.type == -2 else { return nil }
            case contentID: guard isBlob(field.type) else { return nil }
            default: return nil
            }
        }
        guard let key, key.count == 2,
            (key[0].id == clientPrincipalID && key[0].type == -24 && key[1].id == clientNonceID && key[1].type == -8)
                || (key[1].id == clientPrincipalID && key[1].type == -24 && key[0].id == clientNonceID && key[0].type == -8)
        else { return nil }

        var principal: Principal?
        var clientNonce: UInt64?
        var sequenceNum: UInt64?
        var timestamp: UInt64?
        var isServiceMessage: Bool?
        var content: [UInt8]?
        for field in message {
            switch field.id {
            case clientKeyID:
                for keyField in key {
                    if keyField.id == clientPrincipalID {
                        guard reader.byte() == 1, let bytes = reader.blob(maximum: 29),
                            let parsed = try? Principal(bytes: bytes)
                        else { return nil }
                        principal = parsed
                    } else {
                        clientNonce = reader.nat64()
                    }
                }
            case sequenceNumID: sequenceNum = reader.nat64()
            case timestampID: timestamp = reader.nat64()
            case isServiceMessageID:
                switch reader.byte() {
                case 0: isServiceMessage = false
                case 1: isServiceMessage = true
                default: return nil
                }
            default: content = reader.blob(maximum: bytes.count)
            }
        }
        guard let principal, let clientNonce, let sequenceNum, let timestamp, let isServiceMessage, let content else { return nil }
        return CanisterWsMessageArguments(
            msg: WebsocketMessage(
                clientKey: ClientKey(clientPrincipal: principal, clientNonce: clientNonce), sequenceNum: sequenceNum,
                timestamp: timestamp, isServiceMessage: isServiceMessage, content: content))
    }
}
