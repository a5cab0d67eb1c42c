// fuzz-modules: ICCore
// Feeds arbitrary bytes (as UTF-8 text) to the Candid text parser: as type definitions,
// argument types and argument values; values that parse and coerce to parsed types are
// encoded and decoded back. Errors are fine; crashes and hangs are bugs.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    // Split at the first '|' (if any): types on the left, values on the right.
    var typeText = text
    var valueText = text
    if let bar = text.utf8.firstIndex(of: UInt8(ascii: "|")) {
        typeText = String(text[..<bar])
        valueText = String(text[text.utf8.index(after: bar)...])
    }
    let environment = (try? CandidTypeEnvironment(parsing: typeText)) ?? CandidTypeEnvironment()
    _ = try? CandidTextParser.parseType(typeText, environment: environment)
    let types = try? CandidTextParser.parseArgumentTypes(typeText, environment: environment)
    guard let values = try? CandidTextParser.parseArguments(valueText, environment: environment) else { return 0 }
    _ = values.description
    if let types, let coerced = try? CandidValue.coerce(values, to: types),
        let bytes = try? CandidEncoder.encode(coerced, types: types)
    {
        do throws(CandidError) {
            let back = try CandidDecoder(limits: .init(maxDepth: 1024)).decode(bytes, as: types)
            precondition(back == coerced)
        } catch {
            // Only a limit may stop a value we encoded ourselves from decoding.
            switch error.kind {
            case .depthLimitExceeded, .zeroSizedValueLimitExceeded: break
            default: preconditionFailure("\(error)")
            }
        }
    }
    return 0
}
