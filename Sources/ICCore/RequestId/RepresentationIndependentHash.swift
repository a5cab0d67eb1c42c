/// The IC's representation-independent hash (interface spec, "Request ids"): the hash of a
/// structured value that does not depend on how it was serialised (map key order, CBOR head
/// widths, definite or indefinite lengths).
///
/// ```
/// hash_of_map(m)  = H(concat(sort([H(key) · hash_value(v) for (key, v) in m])))
/// hash_value(blob) = H(blob)          hash_value(text) = H(utf8(text))
/// hash_value(nat)  = H(leb128(n))     hash_value(int)  = H(sleb128(i))
/// hash_value(array) = H(concat(hash_value(e) for e in array))
/// hash_value(map)   = hash_of_map(map)
/// ```
///
/// Over `CBORValue`: byte string → blob, text string → text, unsigned → nat, negative → int,
/// bignum tags 2/3 → nat/int, array → array, map (text keys only) → map; a self-describe tag
/// is transparent. Floats, simple values (incl. `null`) and other tags are rejected.
///
/// ```swift
/// let id = try RequestID(content: content)        // hash_of_map(content)
/// let digest = try RepresentationIndependentHash.hashValue(.array([.bytes([1])]))
/// ```
public enum RepresentationIndependentHash {
    /// Why a value has no representation-independent hash. `path` locates the value
    /// (map keys and array indices from the top, e.g. `content.paths[0][1]`).
    public struct Error: Swift.Error, Equatable, Sendable, CustomStringConvertible {
        /// What was wrong.
        public enum Kind: Equatable, Sendable {
            /// A float value.
            case float
            /// A simple value (`false`, `true`, `null`, `undefined` or unassigned).
            case simpleValue
            /// A tag other than 2, 3 (bignums) and 55799 (self-describe).
            case unsupportedTag(UInt64)
            /// A bignum tag whose content is not a byte string.
            case malformedBignum
            /// A map key that is not a text string.
            case nonTextMapKey
            /// The same key twice in one map.
            case duplicateMapKey
            /// `hash_of_map` of something that is not a map.
            case notAMap
        }

        /// What was wrong.
        public var kind: Kind
        /// Where in the value, e.g. `"/arg"` or `"/paths/0/1"` (`"/"` for the value itself).
        public var path: String

        /// Creates an error.
        public init(_ kind: Kind, path: String) {
            self.kind = kind
            self.path = path
        }

        public var description: String {
            let what: String
            switch kind {
            case .float: what = "a float cannot be hashed (use nat/int)"
            case .simpleValue: what = "a simple value (bool/null/undefined) cannot be hashed; omit absent fields"
            case .unsupportedTag(let tag): what = "tag \(tag) cannot be hashed (only bignum tags 2/3)"
            case .malformedBignum: what = "a bignum tag must contain a byte string"
            case .nonTextMapKey: what = "map keys must be text strings"
            case .duplicateMapKey: what = "duplicate map key"
            case .notAMap: what = "expected a map"
            }
            return "representation-independent hash at \(path): \(what)"
        }
    }

    /// `hash_value(value)`: the 32-byte hash of any hashable value.
    public static func hashValue(_ value: CBORValue) throws(Error) -> [UInt8] {
        var path = [PathComponent]()
        return try hashValue(value, path: &path)
    }

    /// `hash_of_map(value)`: `value` must be a map with text keys.
    public static func hashOfMap(_ value: CBORValue) throws(Error) -> [UInt8] {
        guard case .map(let entries) = value.removingSelfDescribeTag else {
            throw Error(.notAMap, path: "/")
        }
        var path = [PathComponent]()
        return try hashOfMap(entries, path: &path)
    }

    /// `hash_of_map` over entries with text keys.
    public static func hashOfMap(_ entries: [(key: CBORValue, value: CBORValue)]) throws(Error) -> [UInt8] {
        var path = [PathComponent]()
        return try hashOfMap(entries, path: &path)
    }

    enum PathComponent {
        case key(String)
        case index(Int)
    }

    static func render(_ path: [PathComponent]) -> String {
        if path.isEmpty { return "/" }
        var out = ""
        for component in path {
            switch component {
            case .key(let key): out += "/" + key
            case .index(let index): out += "/\(index)"
            }
        }
        return out
    }

    static func hashValue(_ value: CBORValue, path: inout [PathComponent]) throws(Error) -> [UInt8] {
        switch value {
        case .byteString(let bytes):
            return SHA256.hash(bytes)
        case .textString(let text):
            return SHA256.hash(utf8: text)
        case .unsigned(let n):
            return RepresentationIndependentHasher.hashNat(n)
        case .negative(let n):
            if n <= UInt64(Int64.max) { return RepresentationIndependentHasher.hashInt(-1 - Int64(n)) }
            return RepresentationIndependentHasher.hashInt(BigInt(isNegative: true, magnitude: BigNat(n) + BigNat(1)))
        case .array(let items):
            var hasher = SHA256()
            for (index, item) in items.enumerated() {
                path.append(.index(index))
                hasher.update(try hashValue(item, path: &path))
                path.removeLast()
            }
            return hasher.finalize()
        case .map(let entries):
            return try hashOfMap(entries, path: &path)
        case .tagged(CBORValue.selfDescribeTag, let inner):
            return try hashValue(inner, path: &path)
        case .tagged(CBORValue.unsignedBignumTag, let inner), .tagged(CBORValue.negativeBignumTag, let inner):
            guard case .byteString = inner, let number = value.bigInt else {
                throw Error(.malformedBignum, path: render(path))
            }
            if number.isNegative { return RepresentationIndependentHasher.hashInt(number) }
            return RepresentationIndependentHasher.hashNat(number.magnitude)
        case .tagged(let tag, _):
            throw Error(.unsupportedTag(tag), path: render(path))
        case .float:
            throw Error(.float, path: render(path))
        case .bool, .null, .undefined, .simple:
            throw Error(.simpleValue, path: render(path))
        }
    }

    static func hashOfMap(_ entries: [(key: CBORValue, value: CBORValue)], path: inout [PathComponent]) throws(Error) -> [UInt8] {
        var hasher = RepresentationIndependentHasher()
        for entry in entries {
            guard case .textString(let key) = entry.key else {
                throw Error(.nonTextMapKey, path: render(path))
            }
            path.append(.key(key))
            let valueHash = try hashValue(entry.value, path: &path)
            path.removeLast()
            hasher.add(keyHash: SHA256.hash(utf8: key), valueHash: valueHash)
        }
        guard let digest = hasher.finalizeCheckingDuplicates() else {
            throw Error(.duplicateMapKey, path: render(path))
        }
        return digest
    }
}

/// Builds `hash_of_map` field by field, without a `CBORValue`.
///
/// ```swift
/// var hasher = RepresentationIndependentHasher()
/// hasher.add(key: "request_type", text: "call")
/// hasher.add(key: "canister_id", blob: canister.bytes)
/// hasher.add(key: "ingress_expiry", nat: expiry)
/// hasher.add(key: "paths", valueHash: RepresentationIndependentHasher.hashArray(of: pathHashes))
/// let requestId = RequestID(digest: hasher.finalize())
/// ```
public struct RepresentationIndependentHasher: Sendable {
    /// The 64-byte `H(key) · hash_value(v)` pairs added so far.
    private var pairs: [[UInt8]] = []

    /// Creates an empty map hasher.
    public init() {}

    /// Adds a field whose key hash and value hash are already computed.
    public mutating func add(keyHash: [UInt8], valueHash: [UInt8]) {
        pairs.append(keyHash + valueHash)
    }

    /// Adds a field with a precomputed value hash (e.g. of an array or nested map).
    public mutating func add(key: String, valueHash: [UInt8]) {
        add(keyHash: SHA256.hash(utf8: key), valueHash: valueHash)
    }

    /// Adds a blob field.
    public mutating func add(key: String, blob: [UInt8]) {
        add(key: key, valueHash: SHA256.hash(blob))
    }

    /// Adds a text field.
    public mutating func add(key: String, text: String) {
        add(key: key, valueHash: SHA256.hash(utf8: text))
    }

    /// Adds a `nat` field (hashed as unsigned LEB128).
    public mutating func add(key: String, nat: UInt64) {
        add(key: key, valueHash: Self.hashNat(nat))
    }

    /// Adds a `nat` field (hashed as unsigned LEB128).
    public mutating func add(key: String, nat: BigNat) {
        add(key: key, valueHash: Self.hashNat(nat))
    }

    /// Adds an `int` field (hashed as signed LEB128).
    public mutating func add(key: String, int: Int64) {
        add(key: key, valueHash: Self.hashInt(int))
    }

    /// `hash_of_map` of the fields added (order of `add` calls does not matter).
    public func finalize() -> [UInt8] {
        var sorted = pairs
        sorted.sort { $0.lexicographicallyPrecedes($1) }
        var hasher = SHA256()
        for pair in sorted { hasher.update(pair) }
        return hasher.finalize()
    }

    /// Like `finalize`, but `nil` when two fields have the same key.
    func finalizeCheckingDuplicates() -> [UInt8]? {
        var sorted = pairs
        sorted.sort { $0.lexicographicallyPrecedes($1) }
        var hasher = SHA256()
        for (index, pair) in sorted.enumerated() {
            if index > 0 && sorted[index - 1][0..<32] == pair[0..<32] { return nil }
            hasher.update(pair)
        }
        return hasher.finalize()
    }

    /// `hash_value(nat)` = H(unsigned LEB128).
    public static func hashNat(_ value: UInt64) -> [UInt8] {
        SHA256.hash(LEB128.encode(value))
    }

    /// `hash_value(nat)` = H(unsigned LEB128).
    public static func hashNat(_ value: BigNat) -> [UInt8] {
        var bytes = [UInt8]()
        LEB128.encode(value, into: &bytes)
        return SHA256.hash(bytes)
    }

    /// `hash_value(int)` = H(signed LEB128).
    public static func hashInt(_ value: Int64) -> [UInt8] {
        SHA256.hash(LEB128.encodeSigned(value))
    }

    /// `hash_value(int)` = H(signed LEB128).
    public static func hashInt(_ value: BigInt) -> [UInt8] {
        var bytes = [UInt8]()
        LEB128.encodeSigned(value, into: &bytes)
        return SHA256.hash(bytes)
    }

    /// `hash_value(array)` from the hashes of its elements, in order.
    public static func hashArray(of elementHashes: [[UInt8]]) -> [UInt8] {
        var hasher = SHA256()
        for hash in elementHashes { hasher.update(hash) }
        return hasher.finalize()
    }
}
