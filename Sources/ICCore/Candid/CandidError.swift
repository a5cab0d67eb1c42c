/// The broad kind of a Candid type, used in error messages ("expected nat8, found text").
public enum CandidTypeKind: UInt8, Equatable, Hashable, Sendable, CustomStringConvertible, UTF8TextConvertible {
    case null, bool, nat, int, nat8, nat16, nat32, nat64, int8, int16, int32, int64
    case float32, float64, text, reserved, empty, principal
    case opt, vec, record, variant, function, service, future

    public var utf8Text: UTF8Text {
        switch self {
        case .null: return "null"
        case .bool: return "bool"
        case .nat: return "nat"
        case .int: return "int"
        case .nat8: return "nat8"
        case .nat16: return "nat16"
        case .nat32: return "nat32"
        case .nat64: return "nat64"
        case .int8: return "int8"
        case .int16: return "int16"
        case .int32: return "int32"
        case .int64: return "int64"
        case .float32: return "float32"
        case .float64: return "float64"
        case .text: return "text"
        case .reserved: return "reserved"
        case .empty: return "empty"
        case .principal: return "principal"
        case .opt: return "opt"
        case .vec: return "vec"
        case .record: return "record"
        case .variant: return "variant"
        case .function: return "func"
        case .service: return "service"
        case .future: return "future type"
        }
    }
}

/// An error encoding, decoding, coercing or parsing Candid.
///
/// `offset` is the byte offset in the binary message (or in the UTF-8 of the text being
/// parsed) where the problem was found, when there is one.
public struct CandidError: Error, Equatable, Sendable, CustomStringConvertible, UTF8TextConvertible {
    public enum Kind: Equatable, Sendable {
        // Binary structure.
        /// The message does not start with `DIDL`.
        case badMagic
        /// The input ended early.
        case truncated
        /// Bytes remain after the last argument value.
        case trailingBytes(count: Int)
        /// A LEB128 number does not fit the width the format allows.
        case numberTooLarge
        /// A type table entry starts with an opcode that may not appear there.
        case invalidTypeOpcode(Int64)
        /// A type reference is neither a primitive opcode nor a valid table index.
        case invalidTypeReference(Int64)
        /// Record/variant field ids are not strictly increasing (`id` repeats or goes down).
        case unsortedFields(id: UInt32)
        /// A field id does not fit in 32 bits.
        case fieldIDTooLarge
        /// Service method names are not strictly increasing.
        case unsortedMethods
        /// A service method's type is not a function type.
        case methodNotFunction
        /// A function annotation byte is unknown.
        case invalidAnnotation(UInt8)
        /// A bool byte other than 0 or 1.
        case invalidBool(UInt8)
        /// An opt tag byte other than 0 or 1.
        case invalidOptionTag(UInt8)
        /// A reference tag other than 1 (0 is an opaque reference, which we do not support).
        case invalidReferenceTag(UInt8)
        /// A variant index at or beyond the number of fields of the wire type.
        case variantIndexOutOfRange(index: UInt64, count: Int)
        /// Text (or a name) is not valid UTF-8.
        case invalidUTF8
        /// A principal longer than 29 bytes.
        case principalTooLong(Int)
        /// A value of type `empty` (which has no values).
        case emptyValue
        /// A type definition refers to itself without a constructor (`type t = t`).
        case nonWellFoundedType
        /// A type refers to a recursion label that is not bound.
        case unboundTypeName([UInt8])
        /// Two fields of one record/variant type (or value) have the same id.
        case duplicateField(id: UInt32)
        /// Two methods of one service type have the same name.
        case duplicateMethod

        // Coercion (recoverable under `opt`: the option becomes null).
        /// The value's type cannot be read at the expected type.
        case typeMismatch(expected: CandidTypeKind, found: CandidTypeKind)
        /// The expected record has a field the value lacks, and it is not null/opt/reserved.
        case missingField(id: UInt32)
        /// The variant tag is not in the expected variant type.
        case unknownVariantTag(id: UInt32)
        /// A func/service reference's type is not a subtype of the expected one.
        case notASubtype(expected: CandidTypeKind)
        /// A number does not fit the expected type.
        case numberOutOfRange(expected: CandidTypeKind)
        /// An argument is missing and its expected type does not accept null.
        case missingArgument(index: Int)

        // Limits.
        /// Values or types nest deeper than `CandidDecoder.Limits.maxDepth`.
        case depthLimitExceeded(limit: Int)
        /// Values that occupy no input bytes exceed `CandidDecoder.Limits.maxZeroSizedValues`.
        case zeroSizedValueLimitExceeded(limit: Int)
        /// The type table has more entries than `CandidDecoder.Limits.maxTypeTableEntries`.
        case typeTableLimitExceeded(limit: Int)

        // Text format.
        /// The text does not follow the Candid grammar; `expected` says what would have fit.
        case syntax(expected: SyntaxExpectation)
        /// A type name has no definition.
        case unknownTypeName([UInt8])
        /// A text value cannot be read at the type (`expected`), given its form (`found`).
        case valueDoesNotFitType(expected: CandidTypeKind)
        /// The number of values does not match the number of types.
        case argumentCountMismatch(values: Int, types: Int)
        /// A principal in text form is invalid.
        case invalidPrincipal
    }

    /// What the text parser was looking for.
    public enum SyntaxExpectation: Equatable, Sendable, CustomStringConvertible, UTF8TextConvertible {
        case token(UInt8)
        case arrow
        case type
        case value
        case name
        case number
        case text
        case endOfInput
        case validEscape
        case validNumber
        case typeDefinition

        public var utf8Text: UTF8Text {
            switch self {
            case .token(let byte): return UTF8Text(utf8: [UInt8(ascii: "'"), byte, UInt8(ascii: "'")])
            case .arrow: return "'->'"
            case .type: return "a type"
            case .value: return "a value"
            case .name: return "a name"
            case .number: return "a number"
            case .text: return "a text literal"
            case .endOfInput: return "end of input"
            case .validEscape: return "a valid escape sequence"
            case .validNumber: return "a valid number"
            case .typeDefinition: return "a type definition"
            }
        }
    }

    public var kind: Kind
    /// Byte offset in the input where the problem was found, if known.
    public var offset: Int?

    public init(_ kind: Kind, offset: Int? = nil) {
        self.kind = kind
        self.offset = offset
    }

    /// Whether this is a coercion failure that an enclosing `opt` turns into null
    /// (Candid spec, "Coercion" / "Options"). Structural errors, invalid bytes and limit
    /// violations are never recoverable.
    public var isCoercionFailure: Bool {
        switch kind {
        case .typeMismatch, .missingField, .unknownVariantTag, .notASubtype, .numberOutOfRange,
            .valueDoesNotFitType:
            return true
        default:
            return false
        }
    }

    public var utf8Text: UTF8Text {
        if case .typeMismatch(let expected, let found) = kind, let offset {
            return "expected \(expected) at offset \(offset), found \(found)"
        }
        let message: UTF8Text
        switch kind {
        case .badMagic: message = "missing DIDL magic number"
        case .truncated: message = "unexpected end of input"
        case .trailingBytes(let count): message = "\(count) unexpected trailing byte(s)"
        case .numberTooLarge: message = "LEB128 number too large"
        case .invalidTypeOpcode(let op): message = "invalid type table opcode \(op)"
        case .invalidTypeReference(let ref): message = "invalid type reference \(ref)"
        case .unsortedFields(let id): message = "field id \(id) is not greater than the previous one"
        case .fieldIDTooLarge: message = "field id does not fit in 32 bits"
        case .unsortedMethods: message = "service method names are not sorted"
        case .methodNotFunction: message = "service method type is not a function type"
        case .invalidAnnotation(let byte): message = "unknown function annotation \(byte)"
        case .invalidBool(let byte): message = "expected bool (0 or 1), found byte \(byte)"
        case .invalidOptionTag(let byte): message = "expected opt tag (0 or 1), found byte \(byte)"
        case .invalidReferenceTag(let byte): message = "expected reference tag 1, found byte \(byte)"
        case .variantIndexOutOfRange(let index, let count):
            message = "variant index \(index) out of range (\(count) fields)"
        case .invalidUTF8: message = "text is not valid UTF-8"
        case .principalTooLong(let n): message = "principal of \(n) bytes is longer than 29"
        case .emptyValue: message = "a value of type empty cannot exist"
        case .nonWellFoundedType: message = "type refers to itself without a constructor"
        case .unboundTypeName(let name): message = "unbound recursive type label \(UTF8Text(utf8: name))"
        case .duplicateField(let id): message = "duplicate field id \(id)"
        case .duplicateMethod: message = "duplicate service method name"
        case .typeMismatch(let expected, let found): message = "expected \(expected), found \(found)"
        case .missingField(let id): message = "expected record field \(id), not present and not optional"
        case .unknownVariantTag(let id): message = "variant tag \(id) is not in the expected type"
        case .notASubtype(let expected): message = "reference type is not a subtype of the expected \(expected) type"
        case .numberOutOfRange(let expected): message = "number out of range for \(expected)"
        case .missingArgument(let index): message = "missing argument \(index), whose type does not accept null"
        case .depthLimitExceeded(let limit): message = "nesting deeper than \(limit)"
        case .zeroSizedValueLimitExceeded(let limit): message = "more than \(limit) values occupying no input bytes"
        case .typeTableLimitExceeded(let limit): message = "type table has more than \(limit) entries"
        case .syntax(let expected): message = "syntax error: expected \(expected)"
        case .unknownTypeName(let name): message = "unknown type name \(UTF8Text(utf8: name))"
        case .valueDoesNotFitType(let expected): message = "value does not fit type \(expected)"
        case .argumentCountMismatch(let values, let types): message = "\(values) value(s) for \(types) type(s)"
        case .invalidPrincipal: message = "invalid principal text"
        }
        if let offset { return "\(message) at offset \(offset)" }
        return message
    }
}
