/// UTF-8 text built without `String`: the error, reject and log messages of code that also
/// runs inside a canister.
///
/// A canister module is paid for by the byte. Each `String` interpolation inlines the standard
/// library's generic formatting where it is written, and `String` itself, once linked, brings
/// ~25 KB of Wasm (UTF-16 views, breadcrumbs, bridging paths an Embedded build never takes),
/// while everything a canister does with a message — `ic0.msg_reject`, `ic0.trap`,
/// `ic0.debug_print`, a Candid `text` — takes bytes. `UTF8Text` is written like a string,
///
///     let reason: UTF8Text = "Client with key \(key) doesn't have an open connection"
///
/// and each literal piece and interpolated value is one outlined call that appends bytes.
/// Integers, `UTF8Text`, `UTF8TextConvertible` values (principals, client keys, errors) and,
/// where a `String` exists anyway, `String`s interpolate. On the host, `description` is the
/// `String`.
public struct UTF8Text: Hashable, Sendable, ExpressibleByStringInterpolation, CustomStringConvertible {
    /// The text's bytes; valid UTF-8 when every piece appended was.
    public var utf8: [UInt8]

    /// Text made of `utf8`, which the caller vouches is UTF-8.
    public init(utf8: [UInt8]) { self.utf8 = utf8 }

    /// The text of a `String`.
    public init(_ string: String) { utf8 = Array(string.utf8) }

    @inline(never)
    public init(stringLiteral literal: StaticString) {
        utf8 = []
        utf8.appendStaticString(literal)
    }

    public init(stringInterpolation: Interpolation) { utf8 = stringInterpolation.utf8 }

    public var description: String { String(decoding: utf8, as: UTF8.self) }

    public var isEmpty: Bool { utf8.isEmpty }

    public static func + (lhs: UTF8Text, rhs: UTF8Text) -> UTF8Text { UTF8Text(utf8: lhs.utf8 + rhs.utf8) }

    /// Builds a `UTF8Text` from literal pieces and values. The appends are outlined on purpose
    /// (one call per piece, not the formatting code inlined at every message).
    public struct Interpolation: StringInterpolationProtocol {
        public typealias StringLiteralType = StaticString

        public var utf8: [UInt8]

        @inline(never)
        public init(literalCapacity: Int, interpolationCount: Int) {
            utf8 = []
            utf8.reserveCapacity(literalCapacity + 16 * interpolationCount)
        }

        @inline(never)
        public mutating func appendLiteral(_ literal: StaticString) { utf8.appendStaticString(literal) }

        @inline(never)
        public mutating func appendInterpolation(_ text: UTF8Text) { utf8.append(contentsOf: text.utf8) }

        public mutating func appendInterpolation(_ value: some UTF8TextConvertible) { appendInterpolation(value.utf8Text) }

        /// A `String`'s text. Canister code avoids it: it links `String`.
        public mutating func appendInterpolation(_ string: String) { utf8.append(contentsOf: string.utf8) }

        /// An integer in decimal, with a `-` when negative.
        @inline(__always)
        public mutating func appendInterpolation(_ value: some FixedWidthInteger) {
            appendDecimal(UInt64(truncatingIfNeeded: value.magnitude), negative: value < 0)
        }

        @inline(never)
        mutating func appendDecimal(_ magnitude: UInt64, negative: Bool) {
            if negative { utf8.append(UInt8(ascii: "-")) }
            // Digits are produced last first; a u64 has at most 20 (room for 24 here).
            var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
            withUnsafeMutableBytes(of: &digits) { buffer in
                var rest = magnitude
                var index = buffer.count
                repeat {
                    index -= 1
                    buffer[index] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10)
                    rest /= 10
                } while rest != 0
                utf8.append(contentsOf: buffer[index...])
            }
        }
    }
}

/// A value with a text form for messages (`description`, when the type also conforms to
/// `CustomStringConvertible`, is derived from it).
public protocol UTF8TextConvertible {
    /// The value's text for messages, as bytes.
    var utf8Text: UTF8Text { get }
}

extension UTF8TextConvertible {
    public var description: String { utf8Text.description }
}

extension Array where Element == UInt8 {
    /// Appends a static string's UTF-8 bytes (a single-scalar literal may be stored as its scalar).
    mutating func appendStaticString(_ literal: StaticString) {
        if literal.hasPointerRepresentation {
            append(contentsOf: UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
        } else {
            UTF8.encode(literal.unicodeScalar) { append($0) }
        }
    }
}
