// fuzz-modules: ICCore
// Decodes arbitrary bytes as CBOR; whatever decodes must re-encode and decode to an equal
// value, and re-encoding must be stable.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let buffer = UnsafeRawBufferPointer(start: data, count: size)
    let decoder = CBORDecoder(limits: .init(maxDepth: 96, maxItems: 200_000))
    guard let value = try? decoder.decode(buffer) else { return 0 }
    let encoded = CBOREncoder.encode(value)
    let again: CBORValue
    do {
        again = try decoder.decode(encoded)
    } catch {
        fatalError("re-encoded value does not decode: \(error)")
    }
    precondition(again == value, "round trip changed the value")
    precondition(CBOREncoder.encode(again) == encoded, "encoding is not stable")
    // Self-described output decodes to the same value.
    precondition((try? decoder.decode(CBOREncoder.encode(value, selfDescribe: true))) == value)
    // Sorted-key encoding also decodes (keys stay unique) and is itself stable.
    let sorted = CBOREncoder.encode(value, sortsMapKeys: true)
    guard let resorted = try? decoder.decode(sorted) else { fatalError("sorted encoding does not decode") }
    precondition(CBOREncoder.encode(resorted, sortsMapKeys: true) == sorted, "sorted encoding is not stable")
    precondition(sorted.count == encoded.count, "sorting changed the size")
    // Accessors must not trap.
    _ = value.bigInt
    _ = value.int64
    _ = value["tree"]
    _ = value[0]
    return 0
}
