// fuzz-modules: ICCore
// Feeds arbitrary bytes to the Candid decoder: at the wire types, as `reserved`, and at a
// few expected types exercising records, variants, options, recursion and references.
// Any crash, hang or sanitizer report is a bug; errors are fine.

// Built per input rather than kept in globals: LeakSanitizer's exit check cannot see
// pointers kept in Swift enum payloads, so long-lived globals show up as leaks.
private func expectedTypes() -> [CandidArgumentTypes] {
    let clientKey = CandidType.record([.field("client_principal", .principal), .field("client_nonce", .nat64)])
    let message = CandidType.record([
        .field("client_key", clientKey), .field("sequence_num", .nat64), .field("timestamp", .nat64),
        .field("is_service_message", .bool), .field("content", .blob),
    ])
    let list = CandidType.recursive("List", .opt(.record([.field("head", .int), .field("tail", .reference("List"))])))
    let result = CandidType.variant([.field("Ok", .vec(message)), .field("Err", .text)])
    let function = CandidType.function(CandidFunctionType([.text], [.nat], annotations: .query))
    let service = CandidType.service([CandidMethod(name: "foo", CandidFunctionType([.text], [.opt(.nat)]))])
    let lists: [[CandidType]] = [
        [message],
        [result],
        [list, .opt(.text)],
        [.opt(.vec(.opt(.record([.field(0, .int8), .field(1, .opt(.float64))]))))],
        [.recursive("Opt", .opt(.reference("Opt")))],
        [function, service, .principal],
        [.opt(function), .opt(service)],
        [.nat, .int, .text, .vec(.reserved)],
        [.variant([.field("a", .null), .field("b", .recursive("R", .record([.field(0, .opt(.reference("R")))])))])],
    ]
    var out = [CandidArgumentTypes]()
    for types in lists { out.append(try! CandidArgumentTypes(types)) }
    return out
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    // A smaller zero-sized budget than the default keeps executions fast; the logic is the same.
    let decoder = CandidDecoder(limits: .init(maxDepth: 256, maxZeroSizedValues: 20_000))
    if let values = try? decoder.decode(bytes) {
        // Decoding a valid message at its wire types is deterministic.
        let again = try! decoder.decode(bytes)
        precondition(again == values)
    }
    _ = try? decoder.decode(bytes, as: [.reserved, .reserved, .reserved])
    for types in expectedTypes() {
        if let values = try? decoder.decode(bytes, as: types) {
            // Values decoded at an expected type re-encode at that type and decode back equal.
            let encoded = try! CandidEncoder.encode(values, as: types)
            let back = try! decoder.decode(encoded, as: types)
            precondition(back == values)
        }
    }
    return 0
}
