/// Decodes CBOR (RFC 8949) into `CBORValue`s.
///
/// The decoder is liberal in what it accepts — non-shortest heads, indefinite-length arrays,
/// maps and strings (made of definite-length chunks), any tags, half/single/double floats,
/// unassigned simple values — and strict about what is malformed or dangerous: it rejects
/// reserved additional information (28–30), misplaced breaks, invalid UTF-8, duplicate map
/// keys and trailing bytes (unless allowed), and enforces `Limits`. Any self-describe tags
/// (55799, `d9 d9 f7`) in front of the top-level item are skipped; data without one is
/// accepted too. Errors carry the byte offset of the problem.
///
/// ```swift
/// let value = try CBORDecoder.decode(bytes)          // default limits, no trailing bytes
/// let tree = value["tree"]
/// var lenient = CBORDecoder(limits: .init(maxDepth: 32), allowsTrailingBytes: true)
/// let (first, used) = try lenient.decodePrefix(bytes)
/// ```
///
/// Decoding never allocates more than the input justifies: a length or count larger than
/// what remains of the input fails immediately.
public struct CBORDecoder: Sendable {
    /// Resource limits applied while decoding.
    public struct Limits: Equatable, Sendable {
        /// Maximum nesting of arrays, maps and tags (the top-level item is at depth 0;
        /// `[[1]]` needs 2). Default 128 — deep enough for IC certificates, whose hash trees
        /// nest one array level per fork.
        public var maxDepth: Int
        /// Maximum number of data items (including string chunks). Default 1,000,000.
        public var maxItems: Int
        /// Maximum input length in bytes. Default 64 MiB.
        public var maxInputLength: Int
        /// Maximum length of one byte or text string (after joining chunks). Default 64 MiB.
        /// Every length is also bounded by the input actually present.
        public var maxStringLength: Int

        /// Creates limits; omitted values take the defaults.
        public init(
            maxDepth: Int = 128,
            maxItems: Int = 1_000_000,
            maxInputLength: Int = 64 << 20,
            maxStringLength: Int = 64 << 20
        ) {
            self.maxDepth = maxDepth
            self.maxItems = maxItems
            self.maxInputLength = maxInputLength
            self.maxStringLength = maxStringLength
        }

        /// The default limits.
        public static let `default` = Limits()
    }

    /// The limits in force.
    public var limits: Limits
    /// Whether `decode` accepts bytes after the top-level item (they are ignored).
    public var allowsTrailingBytes: Bool

    /// Creates a decoder.
    public init(limits: Limits = .default, allowsTrailingBytes: Bool = false) {
        self.limits = limits
        self.allowsTrailingBytes = allowsTrailingBytes
    }

    /// Decodes one item with the default settings (no trailing bytes allowed).
    public static func decode(_ bytes: [UInt8]) throws(CBORError) -> CBORValue {
        try CBORDecoder().decode(bytes)
    }

    /// Decodes the single top-level item of `bytes`, skipping leading self-describe tags.
    public func decode(_ bytes: [UInt8]) throws(CBORError) -> CBORValue {
        var result: Result<CBORValue, CBORError> = .failure(CBORError(.trailingBytes(count: 0), at: 0))
        bytes.withUnsafeBytes { raw in
            result = Result { () throws(CBORError) in try decode(raw) }
        }
        return try result.get()
    }

    /// Decodes the single top-level item of `buffer`, skipping leading self-describe tags.
    public func decode(_ buffer: UnsafeRawBufferPointer) throws(CBORError) -> CBORValue {
        let (value, used) = try decodePrefix(buffer)
        if used < buffer.count && !allowsTrailingBytes {
            throw CBORError(.trailingBytes(count: buffer.count - used), at: used)
        }
        return value
    }

    /// Decodes the first item of `buffer` (after any self-describe tags) and returns it with
    /// the number of bytes it used; bytes after it are not examined.
    public func decodePrefix(_ buffer: UnsafeRawBufferPointer) throws(CBORError) -> (value: CBORValue, byteCount: Int) {
        guard buffer.count <= limits.maxInputLength else {
            throw CBORError(.inputTooLong(length: buffer.count, limit: limits.maxInputLength), at: 0)
        }
        var reader = Reader(buffer: buffer, limits: limits)
        try reader.skipSelfDescribeTags()
        let value = try reader.decodeItem(depth: 0, context: .itemHead, contextStart: reader.position)
        return (value, reader.position)
    }

    /// Decodes the first item of `bytes` and returns it with the number of bytes it used.
    public func decodePrefix(_ bytes: [UInt8]) throws(CBORError) -> (value: CBORValue, byteCount: Int) {
        var result: Result<(value: CBORValue, byteCount: Int), CBORError> = .failure(CBORError(.trailingBytes(count: 0), at: 0))
        bytes.withUnsafeBytes { raw in
            result = Result { () throws(CBORError) in try decodePrefix(raw) }
        }
        return try result.get()
    }
}

// MARK: - Reader

extension CBORDecoder {
    /// A parsed initial byte and argument.
    struct Head {
        var major: UInt8
        var info: UInt8
        var argument: UInt64
        /// Offset of the initial byte.
        var start: Int
        var isIndefinite: Bool { info == 31 }
    }

    struct Reader {
        let buffer: UnsafeRawBufferPointer
        let limits: Limits
        var position = 0
        var items = 0

        init(buffer: UnsafeRawBufferPointer, limits: Limits) {
            self.buffer = buffer
            self.limits = limits
        }

        var remaining: Int { buffer.count - position }

        /// Upper bound for reserving array/map storage from a declared count: a hostile count
        /// (bounded only by the input length) must not make us allocate far more than the
        /// input; beyond this the storage grows as items actually arrive.
        static let maxReservation = 1024

        /// Skips self-describe tags (in any head encoding) in front of the top-level item.
        mutating func skipSelfDescribeTags() throws(CBORError) {
            while position < buffer.count, buffer[position] >> 5 == 6 {
                let saved = position
                let head = try readHead(context: .itemHead, contextStart: position)
                guard head.argument == CBORValue.selfDescribeTag, !head.isIndefinite else {
                    position = saved
                    return
                }
            }
        }

        /// Reads an initial byte and its argument. `context`/`contextStart` describe the
        /// enclosing item for end-of-input errors.
        mutating func readHead(context: CBORError.Context, contextStart: Int) throws(CBORError) -> Head {
            let start = position
            guard position < buffer.count else {
                throw CBORError(.unexpectedEnd(context: context, remaining: 0), at: contextStart)
            }
            let initial = buffer[position]
            position += 1
            let major = initial >> 5
            let info = initial & 0x1f
            var argument: UInt64
            switch info {
            case 0..<24:
                argument = UInt64(info)
            case 24...27:
                let width = 1 << Int(info - 24)
                guard remaining >= width else {
                    throw CBORError(.unexpectedEnd(context: .argument(byteCount: width), remaining: remaining), at: start)
                }
                argument = 0
                for index in 0..<width {
                    argument = argument << 8 | UInt64(buffer[position + index])
                }
                position += width
            case 28...30:
                throw CBORError(.reservedAdditionalInfo(info), at: start)
            default:
                argument = 0  // indefinite length, or break for major type 7
            }
            return Head(major: major, info: info, argument: argument, start: start)
        }

        mutating func countItem(at offset: Int) throws(CBORError) {
            items += 1
            if items > limits.maxItems {
                throw CBORError(.itemLimitExceeded(limit: limits.maxItems), at: offset)
            }
        }

        /// Decodes one data item nested `depth` containers deep.
        mutating func decodeItem(depth: Int, context: CBORError.Context, contextStart: Int) throws(CBORError) -> CBORValue {
            let head = try readHead(context: context, contextStart: contextStart)
            try countItem(at: head.start)
            switch head.major {
            case 0:
                guard !head.isIndefinite else { throw CBORError(.indefiniteLengthNotAllowed(majorType: 0), at: head.start) }
                return .unsigned(head.argument)
            case 1:
                guard !head.isIndefinite else { throw CBORError(.indefiniteLengthNotAllowed(majorType: 1), at: head.start) }
                return .negative(head.argument)
            case 2:
                if head.isIndefinite { return .byteString(try readChunkedString(head)) }
                return .byteString(Array(try readDefiniteChunk(head, isText: false)))
            case 3:
                if head.isIndefinite { return .textString(String(decoding: try readChunkedString(head), as: UTF8.self)) }
                return .textString(String(decoding: try readDefiniteChunk(head, isText: true), as: UTF8.self))
            case 4:
                return try readArray(head, depth: depth)
            case 5:
                return try readMap(head, depth: depth)
            case 6:
                guard !head.isIndefinite else { throw CBORError(.indefiniteLengthNotAllowed(majorType: 6), at: head.start) }
                guard depth < limits.maxDepth else {
                    throw CBORError(.depthLimitExceeded(limit: limits.maxDepth), at: head.start)
                }
                let content = try decodeItem(depth: depth + 1, context: .tagContent(tag: head.argument), contextStart: head.start)
                return .tagged(head.argument, content)
            default:
                return try readSimple(head)
            }
        }

        mutating func readSimple(_ head: Head) throws(CBORError) -> CBORValue {
            switch head.info {
            case 20: return .bool(false)
            case 21: return .bool(true)
            case 22: return .null
            case 23: return .undefined
            case 24:
                guard head.argument >= 32 else {
                    throw CBORError(.invalidSimpleValue(UInt8(head.argument)), at: head.start)
                }
                return .simple(UInt8(head.argument))
            case 25: return .float(CBORDecoder.double(fromHalf: UInt16(head.argument)))
            case 26: return .float(Double(Float(bitPattern: UInt32(head.argument))))
            case 27: return .float(Double(bitPattern: head.argument))
            case 31: throw CBORError(.unexpectedBreak, at: head.start)
            default: return .simple(head.info)  // 0...19
            }
        }

        /// Reads the chunks of an indefinite-length byte or text string (each text chunk must
        /// be valid UTF-8 on its own).
        mutating func readChunkedString(_ head: Head) throws(CBORError) -> [UInt8] {
            let isText = head.major == 3
            var result = [UInt8]()
            let context: CBORError.Context = isText ? .indefiniteTextString : .indefiniteByteString
            while true {
                guard position < buffer.count else {
                    throw CBORError(.unexpectedEnd(context: context, remaining: 0), at: head.start)
                }
                if buffer[position] == 0xff {
                    position += 1
                    return result
                }
                let chunk = try readHead(context: context, contextStart: head.start)
                try countItem(at: chunk.start)
                guard chunk.major == head.major, !chunk.isIndefinite else {
                    throw CBORError(.invalidStringChunk(expectedMajorType: head.major, foundMajorType: chunk.major), at: chunk.start)
                }
                guard chunk.argument <= UInt64(limits.maxStringLength - result.count) else {
                    throw CBORError(
                        .stringTooLong(length: UInt64(result.count) &+ chunk.argument, limit: limits.maxStringLength), at: chunk.start)
                }
                let slice = try readDefiniteChunk(chunk, isText: isText)
                result.append(contentsOf: slice)
            }
        }

        /// Reads the bytes of a definite-length string whose head has been read.
        mutating func readDefiniteChunk(_ head: Head, isText: Bool) throws(CBORError) -> UnsafeRawBufferPointer {
            let length = head.argument
            guard length <= UInt64(limits.maxStringLength) else {
                throw CBORError(.stringTooLong(length: length, limit: limits.maxStringLength), at: head.start)
            }
            guard length <= UInt64(remaining) else {
                let context: CBORError.Context = isText ? .textString(length: length) : .byteString(length: length)
                throw CBORError(.unexpectedEnd(context: context, remaining: remaining), at: head.start)
            }
            let slice = UnsafeRawBufferPointer(rebasing: buffer[position..<position + Int(length)])
            if isText && !UTF8Validation.isValid(slice) {
                throw CBORError(.invalidUTF8, at: head.start)
            }
            position += Int(length)
            return slice
        }

        mutating func readArray(_ head: Head, depth: Int) throws(CBORError) -> CBORValue {
            guard depth < limits.maxDepth else {
                throw CBORError(.depthLimitExceeded(limit: limits.maxDepth), at: head.start)
            }
            var elements = [CBORValue]()
            if head.isIndefinite {
                while true {
                    guard position < buffer.count else {
                        throw CBORError(.unexpectedEnd(context: .indefiniteArray, remaining: 0), at: head.start)
                    }
                    if buffer[position] == 0xff {
                        position += 1
                        return .array(elements)
                    }
                    elements.append(try decodeItem(depth: depth + 1, context: .indefiniteArray, contextStart: head.start))
                }
            }
            let count = head.argument
            // Every element takes at least one byte.
            guard count <= UInt64(remaining) else {
                throw CBORError(.unexpectedEnd(context: .array(count: count), remaining: remaining), at: head.start)
            }
            elements.reserveCapacity(min(Int(count), Reader.maxReservation))
            for _ in 0..<Int(count) {
                elements.append(try decodeItem(depth: depth + 1, context: .array(count: count), contextStart: head.start))
            }
            return .array(elements)
        }

        mutating func readMap(_ head: Head, depth: Int) throws(CBORError) -> CBORValue {
            guard depth < limits.maxDepth else {
                throw CBORError(.depthLimitExceeded(limit: limits.maxDepth), at: head.start)
            }
            var entries = [(key: CBORValue, value: CBORValue)]()
            var seen = Set<CBORValue>()
            if head.isIndefinite {
                while true {
                    guard position < buffer.count else {
                        throw CBORError(.unexpectedEnd(context: .indefiniteMap, remaining: 0), at: head.start)
                    }
                    if buffer[position] == 0xff {
                        position += 1
                        return .map(entries)
                    }
                    let keyStart = position
                    let key = try decodeItem(depth: depth + 1, context: .indefiniteMap, contextStart: head.start)
                    guard position < buffer.count else {
                        throw CBORError(.unexpectedEnd(context: .indefiniteMap, remaining: 0), at: head.start)
                    }
                    if buffer[position] == 0xff { throw CBORError(.missingMapValue, at: position) }
                    let value = try decodeItem(depth: depth + 1, context: .indefiniteMap, contextStart: head.start)
                    try insert(key: key, value: value, at: keyStart, into: &entries, seen: &seen)
                }
            }
            let count = head.argument
            // Every entry takes at least two bytes.
            guard count <= UInt64(remaining / 2) else {
                throw CBORError(.unexpectedEnd(context: .map(count: count), remaining: remaining), at: head.start)
            }
            entries.reserveCapacity(min(Int(count), Reader.maxReservation))
            for _ in 0..<Int(count) {
                let keyStart = position
                let key = try decodeItem(depth: depth + 1, context: .map(count: count), contextStart: head.start)
                let value = try decodeItem(depth: depth + 1, context: .map(count: count), contextStart: head.start)
                try insert(key: key, value: value, at: keyStart, into: &entries, seen: &seen)
            }
            return .map(entries)
        }

        /// Appends an entry, rejecting a key already present. Small maps compare linearly;
        /// from 16 entries on, a set of keys keeps this linear overall.
        func insert(
            key: CBORValue, value: CBORValue, at keyStart: Int,
            into entries: inout [(key: CBORValue, value: CBORValue)], seen: inout Set<CBORValue>
        ) throws(CBORError) {
            let threshold = 16
            if entries.count < threshold {
                for entry in entries where entry.key == key {
                    throw CBORError(.duplicateMapKey, at: keyStart)
                }
                if entries.count == threshold - 1 {
                    for entry in entries { seen.insert(entry.key) }
                    seen.insert(key)
                }
            } else if !seen.insert(key).inserted {
                throw CBORError(.duplicateMapKey, at: keyStart)
            }
            entries.append((key: key, value: value))
        }
    }

    /// Converts an IEEE 754 half-precision bit pattern to `Double` exactly (NaN payloads kept).
    static func double(fromHalf bits: UInt16) -> Double {
        let sign = UInt64(bits >> 15) << 63
        let exponent = Int(bits >> 10) & 0x1f
        let mantissa = UInt64(bits & 0x3ff)
        switch exponent {
        case 0:
            let magnitude = Double(mantissa) * (1.0 / 16_777_216.0)  // mantissa · 2^-24
            return sign != 0 ? -magnitude : magnitude
        case 31:
            return Double(bitPattern: sign | 0x7ff << 52 | mantissa << 42)
        default:
            return Double(bitPattern: sign | UInt64(exponent - 15 + 1023) << 52 | mantissa << 42)
        }
    }
}
