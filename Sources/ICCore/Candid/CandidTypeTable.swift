/// Candid type opcodes (Candid spec, "Binary Format" / "Types").
enum CandidOpcode {
    static let null = -1
    static let bool = -2
    static let nat = -3
    static let int = -4
    static let nat8 = -5
    static let nat16 = -6
    static let nat32 = -7
    static let nat64 = -8
    static let int8 = -9
    static let int16 = -10
    static let int32 = -11
    static let int64 = -12
    static let float32 = -13
    static let float64 = -14
    static let text = -15
    static let reserved = -16
    static let empty = -17
    static let opt = -18
    static let vec = -19
    static let record = -20
    static let variant = -21
    static let function = -22
    static let service = -23
    static let principal = -24

    /// Whether `code` is a primitive type opcode (may appear as a reference, not in the table).
    static func isPrimitive(_ code: Int) -> Bool {
        (code <= -1 && code >= -17) || code == principal
    }

    /// The kind of a primitive opcode.
    static func primitiveKind(_ code: Int) -> CandidTypeKind {
        switch code {
        case null: return .null
        case bool: return .bool
        case nat: return .nat
        case int: return .int
        case nat8: return .nat8
        case nat16: return .nat16
        case nat32: return .nat32
        case nat64: return .nat64
        case int8: return .int8
        case int16: return .int16
        case int32: return .int32
        case int64: return .int64
        case float32: return .float32
        case float64: return .float64
        case text: return .text
        case reserved: return .reserved
        case empty: return .empty
        default: return .principal
        }
    }
}

/// Types in the binary format's shape: a table of composite types that refer to each other
/// (and to themselves) by index, plus primitive opcodes. A type reference (`Int`) is either a
/// negative primitive opcode or a non-negative index into `nodes`.
///
/// The decoder parses the wire's table into this form; expected types (`CandidType`) are
/// compiled into it once per decode, so decoding never walks `CandidType` trees per value.
public struct CandidTypeTable: Sendable {
    public struct Field: Sendable, Equatable {
        public var id: UInt32
        public var type: Int
    }

    public struct Method: Sendable, Equatable {
        /// UTF-8 bytes of the name (compared bytewise; names are sorted bytewise).
        public var name: [UInt8]
        public var type: Int
    }

    public struct Function: Sendable, Equatable {
        public var arguments: [Int]
        public var results: [Int]
        public var annotations: CandidFunctionAnnotations
    }

    public enum Node: Sendable, Equatable {
        case opt(Int)
        case vec(Int)
        /// Fields sorted by strictly increasing id.
        case record([Field])
        /// Fields sorted by strictly increasing id.
        case variant([Field])
        case function(Function)
        /// Methods sorted by strictly increasing name.
        case service([Method])
        /// An opcode below −24, whose type description was skipped.
        case future(opcode: Int)
    }

    public internal(set) var nodes: [Node]

    public init() { nodes = [] }

    init(nodes: [Node]) { self.nodes = nodes }

    /// The broad kind of the type `ref` refers to.
    public func kind(_ ref: Int) -> CandidTypeKind {
        if ref < 0 { return CandidOpcode.primitiveKind(ref) }
        switch nodes[ref] {
        case .opt: return .opt
        case .vec: return .vec
        case .record: return .record
        case .variant: return .variant
        case .function: return .function
        case .service: return .service
        case .future: return .future
        }
    }

    /// Whether `null <: type`, i.e. the type is `null`, `opt _` or `reserved`. Such record
    /// fields may be absent, and such arguments may be missing.
    public func acceptsNull(_ ref: Int) -> Bool {
        if ref == CandidOpcode.null || ref == CandidOpcode.reserved { return true }
        if ref >= 0, case .opt = nodes[ref] { return true }
        return false
    }

    // MARK: Serialisation

    /// The binary encoding of one table entry (`T(<comptype>)`).
    static func encode(_ node: Node, into out: inout [UInt8]) {
        func ref(_ r: Int) { LEB128.encodeSigned(Int64(r), into: &out) }
        func fields(_ opcode: Int, _ list: [Field]) {
            ref(opcode)
            LEB128.encode(UInt64(list.count), into: &out)
            for field in list {
                LEB128.encode(UInt64(field.id), into: &out)
                ref(field.type)
            }
        }
        switch node {
        case .opt(let inner):
            ref(CandidOpcode.opt)
            ref(inner)
        case .vec(let inner):
            ref(CandidOpcode.vec)
            ref(inner)
        case .record(let list):
            fields(CandidOpcode.record, list)
        case .variant(let list):
            fields(CandidOpcode.variant, list)
        case .function(let function):
            ref(CandidOpcode.function)
            LEB128.encode(UInt64(function.arguments.count), into: &out)
            for argument in function.arguments { ref(argument) }
            LEB128.encode(UInt64(function.results.count), into: &out)
            for result in function.results { ref(result) }
            let annotations = function.annotations.wireBytes
            LEB128.encode(UInt64(annotations.count), into: &out)
            out.append(contentsOf: annotations)
        case .service(let methods):
            ref(CandidOpcode.service)
            LEB128.encode(UInt64(methods.count), into: &out)
            for method in methods {
                LEB128.encode(UInt64(method.name.count), into: &out)
                out.append(contentsOf: method.name)
                ref(method.type)
            }
        case .future(let opcode):
            // We never produce future types; an empty description keeps the output parseable.
            ref(opcode)
            out.append(0)
        }
    }

    /// Appends `leb128(count) · entries`.
    func encode(into out: inout [UInt8]) {
        LEB128.encode(UInt64(nodes.count), into: &out)
        for node in nodes { CandidTypeTable.encode(node, into: &out) }
    }
}

// MARK: - Compiling CandidType into a table

extension CandidTypeTable {
    /// Adds types to a table, sharing structurally identical entries (so `(opt nat, opt nat)`
    /// uses one entry), children before parents.
    public struct Builder {
        public private(set) var table = CandidTypeTable()
        private var shared: [[UInt8]: Int] = [:]
        private var bindings: [(label: String, slot: Int)] = []
        private var binderSlots: [Int] = []
        private var indexed = false
        private var scratch: [UInt8] = []

        public init() {}

        /// Adds `type` (and everything it refers to) and returns its reference.
        public mutating func add(_ type: CandidType) throws(CandidError) -> Int {
            switch type {
            case .null: return CandidOpcode.null
            case .bool: return CandidOpcode.bool
            case .nat: return CandidOpcode.nat
            case .int: return CandidOpcode.int
            case .nat8: return CandidOpcode.nat8
            case .nat16: return CandidOpcode.nat16
            case .nat32: return CandidOpcode.nat32
            case .nat64: return CandidOpcode.nat64
            case .int8: return CandidOpcode.int8
            case .int16: return CandidOpcode.int16
            case .int32: return CandidOpcode.int32
            case .int64: return CandidOpcode.int64
            case .float32: return CandidOpcode.float32
            case .float64: return CandidOpcode.float64
            case .text: return CandidOpcode.text
            case .reserved: return CandidOpcode.reserved
            case .empty: return CandidOpcode.empty
            case .principal: return CandidOpcode.principal
            case .reference(let label):
                guard let slot = lookup(label) else { throw CandidError(.unboundTypeName(Array(label.utf8))) }
                return slot
            case .recursive:
                // Peel nested binders: they all name the same type.
                var labels = [String]()
                var body = type
                while case .recursive(let label, let inner) = body {
                    labels.append(label)
                    body = inner
                }
                switch body {
                case .reference(let label):
                    // `μX. X` is not a type; `μX. Y` is just `Y`.
                    for bound in labels where sameLabel(bound, label) { throw CandidError(.nonWellFoundedType) }
                    return try add(body)
                case .opt, .vec, .record, .variant, .function, .service:
                    let slot = table.nodes.count
                    table.nodes.append(.future(opcode: 0))  // placeholder until the body is built
                    binderSlots.append(slot)
                    let depth = bindings.count
                    for label in labels { bindings.append((label, slot)) }
                    defer { bindings.removeLast(bindings.count - depth) }
                    table.nodes[slot] = try compositeNode(body)
                    return slot
                default:
                    return try add(body)  // a primitive cannot mention the label
                }
            case .opt, .vec, .record, .variant, .function, .service:
                let node = try compositeNode(type)
                // Share structurally identical entries. Small tables (the usual case) are
                // searched directly; larger ones through a dictionary keyed by the encoding.
                if table.nodes.count < 32 && !indexed {
                    for (index, existing) in table.nodes.enumerated() where existing == node && !isBinder(index) {
                        return index
                    }
                    table.nodes.append(node)
                    return table.nodes.count - 1
                }
                if !indexed { indexExistingNodes() }
                scratch.removeAll(keepingCapacity: true)
                CandidTypeTable.encode(node, into: &scratch)
                if let existing = shared[scratch] { return existing }
                let index = table.nodes.count
                table.nodes.append(node)
                shared[scratch] = index
                return index
            }
        }

        /// Binder slots (recursive types) are never shared: their node may still be a placeholder.
        private func isBinder(_ index: Int) -> Bool { binderSlots.contains(index) }

        private mutating func indexExistingNodes() {
            indexed = true
            for (index, node) in table.nodes.enumerated() where !isBinder(index) {
                scratch.removeAll(keepingCapacity: true)
                CandidTypeTable.encode(node, into: &scratch)
                if shared[scratch] == nil { shared[scratch] = index }
            }
        }

        private mutating func compositeNode(_ type: CandidType) throws(CandidError) -> Node {
            switch type {
            case .opt(let inner): return .opt(try add(inner))
            case .vec(let inner): return .vec(try add(inner))
            case .record(let fields): return .record(try fieldList(fields))
            case .variant(let fields): return .variant(try fieldList(fields))
            case .function(let function): return .function(try functionNode(function))
            case .service(let methods):
                var list = [Method]()
                list.reserveCapacity(methods.count)
                for method in methods {
                    let ref = try add(method.type)
                    guard ref >= 0, case .function = table.nodes[ref] else { throw CandidError(.methodNotFunction) }
                    list.append(Method(name: Array(method.name.utf8), type: ref))
                }
                list.sort { $0.name.lexicographicallyPrecedes($1.name) }
                if list.count > 1 {
                    for i in 1..<list.count where list[i - 1].name == list[i].name {
                        throw CandidError(.duplicateMethod)
                    }
                }
                return .service(list)
            default:
                preconditionFailure("not a composite type")
            }
        }

        private mutating func functionNode(_ function: CandidFunctionType) throws(CandidError) -> Function {
            var arguments = [Int]()
            for argument in function.arguments { arguments.append(try add(argument)) }
            var results = [Int]()
            for result in function.results { results.append(try add(result)) }
            return Function(arguments: arguments, results: results, annotations: function.annotations)
        }

        private mutating func fieldList(_ fields: [CandidField]) throws(CandidError) -> [Field] {
            var list = [Field]()
            list.reserveCapacity(fields.count)
            for field in fields { list.append(Field(id: field.id, type: try add(field.type))) }
            list.sort { $0.id < $1.id }
            if list.count > 1 {
                for i in 1..<list.count where list[i - 1].id == list[i].id {
                    throw CandidError(.duplicateField(id: list[i].id))
                }
            }
            return list
        }

        private func lookup(_ label: String) -> Int? {
            var i = bindings.count - 1
            while i >= 0 {
                if sameLabel(bindings[i].label, label) { return bindings[i].slot }
                i -= 1
            }
            return nil
        }

        private func sameLabel(_ a: String, _ b: String) -> Bool {
            a.utf8.elementsEqual(b.utf8)  // bytewise: no Unicode tables needed
        }
    }

    /// Compiles a list of types into one table; returns the table and the references.
    public static func compile(_ types: [CandidType]) throws(CandidError) -> (table: CandidTypeTable, refs: [Int]) {
        var builder = Builder()
        var refs = [Int]()
        refs.reserveCapacity(types.count)
        for type in types { refs.append(try builder.add(type)) }
        return (builder.table, refs)
    }
}
