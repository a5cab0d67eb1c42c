/// Decides Candid subtyping `t <: t'` (Candid spec, "Upgrading and Subtyping" / "Rules")
/// between a type of one table (`sub`, e.g. the wire's) and a type of another (`sup`, e.g.
/// the expected one). Decoders need it for function and service references.
///
/// Recursive types are handled co-inductively: a pair under examination is assumed to hold.
/// Every rule is a conjunction (the `opt` rules always hold), so a failing pair is false
/// outright and is remembered; pairs proven true while a failing pair was assumed are
/// forgotten again when the outermost check fails. Results are memoised, so the work is
/// bounded by (entries of one table) × (entries of the other).
struct CandidSubtypeChecker {
    let sub: CandidTypeTable
    let sup: CandidTypeTable
    let maxDepth: Int
    private var known: [UInt64: Bool] = [:]
    private var assumed: [UInt64] = []
    private var depth = 0

    init(sub: CandidTypeTable, sup: CandidTypeTable, maxDepth: Int) {
        self.sub = sub
        self.sup = sup
        self.maxDepth = maxDepth
    }

    /// Whether `a` (in `sub`) is a subtype of `b` (in `sup`).
    mutating func isSubtype(_ a: Int, _ b: Int) throws(CandidError) -> Bool {
        let mark = assumed.count
        let result = try check(a, b, flipped: false)
        if !result {
            for key in assumed[mark...] where known[key] == true { known[key] = nil }
        }
        assumed.removeLast(assumed.count - mark)
        return result
    }

    private func table(_ flipped: Bool, left: Bool) -> CandidTypeTable {
        // Unflipped: the left type lives in `sub`, the right one in `sup`. Function arguments
        // are contravariant, which swaps the tables.
        (left != flipped) ? sub : sup
    }

    /// `a <: b`, where `a` is in the left table and `b` in the right one (see `table`).
    private mutating func check(_ a: Int, _ b: Int, flipped: Bool) throws(CandidError) -> Bool {
        let left = table(flipped, left: true)
        let right = table(flipped, left: false)
        if b == CandidOpcode.reserved || a == CandidOpcode.empty { return true }
        // Anything is a subtype of an option: `opt t <: opt t'` and `t <: opt t'` hold
        // whether or not the content is a subtype (the value then reads as null).
        if b >= 0, case .opt = right.nodes[b] { return true }
        if a < 0 && b < 0 { return a == b || (a == CandidOpcode.nat && b == CandidOpcode.int) }
        if b < 0 {
            if b == CandidOpcode.principal, case .service = left.nodes[a] { return true }
            return false
        }
        if a < 0 { return false }

        let key =
            UInt64(UInt32(truncatingIfNeeded: a)) << 33 | UInt64(UInt32(truncatingIfNeeded: b)) << 1
            | (flipped ? 1 : 0)
        if let result = known[key] { return result }
        depth += 1
        defer { depth -= 1 }
        guard depth <= maxDepth else { throw CandidError(.depthLimitExceeded(limit: maxDepth)) }
        known[key] = true
        assumed.append(key)
        let result = try structural(left.nodes[a], right.nodes[b], left: left, right: right, flipped: flipped)
        if !result { known[key] = false }
        return result
    }

    private mutating func structural(
        _ x: CandidTypeTable.Node, _ y: CandidTypeTable.Node,
        left: CandidTypeTable, right: CandidTypeTable, flipped: Bool
    ) throws(CandidError) -> Bool {
        switch (x, y) {
        case (.vec(let p), .vec(let q)):
            return try check(p, q, flipped: flipped)
        case (.record(let fx), .record(let fy)):
            // Every expected field is present with a subtype, or may be absent (null <: t).
            var i = 0
            for field in fy {
                while i < fx.count && fx[i].id < field.id { i += 1 }
                if i < fx.count && fx[i].id == field.id {
                    guard try check(fx[i].type, field.type, flipped: flipped) else { return false }
                } else if !right.acceptsNull(field.type) {
                    return false
                }
            }
            return true
        case (.variant(let fx), .variant(let fy)):
            // Every tag of the subtype exists in the supertype with a supertype.
            var j = 0
            for field in fx {
                while j < fy.count && fy[j].id < field.id { j += 1 }
                guard j < fy.count, fy[j].id == field.id else { return false }
                guard try check(field.type, fy[j].type, flipped: flipped) else { return false }
            }
            return true
        case (.function(let f), .function(let g)):
            guard f.annotations == g.annotations else { return false }
            // Arguments, as tuple records, contravariantly: record{g.args} <: record{f.args}.
            for (index, argument) in f.arguments.enumerated() {
                if index < g.arguments.count {
                    guard try check(g.arguments[index], argument, flipped: !flipped) else { return false }
                } else if !left.acceptsNull(argument) {
                    return false
                }
            }
            // Results covariantly: record{f.results} <: record{g.results}.
            for (index, result) in g.results.enumerated() {
                if index < f.results.count {
                    guard try check(f.results[index], result, flipped: flipped) else { return false }
                } else if !right.acceptsNull(result) {
                    return false
                }
            }
            return true
        case (.service(let mx), .service(let my)):
            var i = 0
            for method in my {
                while i < mx.count && mx[i].name.lexicographicallyPrecedes(method.name) { i += 1 }
                guard i < mx.count, mx[i].name == method.name else { return false }
                guard try check(mx[i].type, method.type, flipped: flipped) else { return false }
            }
            return true
        default:
            return false
        }
    }
}

extension CandidType {
    /// Whether `self <: other` (Candid spec, "Upgrading and Subtyping").
    public func isSubtype(of other: CandidType, maxDepth: Int = 256) throws(CandidError) -> Bool {
        let (mine, myRefs) = try CandidTypeTable.compile([self])
        let (theirs, theirRefs) = try CandidTypeTable.compile([other])
        var checker = CandidSubtypeChecker(sub: mine, sup: theirs, maxDepth: maxDepth)
        return try checker.isSubtype(myRefs[0], theirRefs[0])
    }
}
