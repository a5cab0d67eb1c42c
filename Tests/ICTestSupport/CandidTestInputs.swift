import ICCore

/// Test inputs for the direct Candid decoders, which must read what the generic decoder reads
/// and refuse what it refuses.
public enum CandidTestInputs {
    /// The Candid bytes of values written in Candid text at types written in Candid text, made
    /// by the generic encoder: a message at any wire type a sender might use.
    public static func bytes(_ values: String, _ types: String) throws -> [UInt8] {
        let parsedTypes = try CandidTextParser.parseArgumentTypes(types)
        let parsedValues = try CandidValue.coerce(CandidTextParser.parseArguments(values), to: parsedTypes)
        return try CandidEncoder.encode(parsedValues, types: parsedTypes)
    }

    /// Every single-byte change of `valid` a decoder is likely to trip on (0, 1, 0x7f, 0x80,
    /// 0xff and one flipped bit, at every position), named for the failure message.
    public static func singleByteChanges(of valid: [UInt8]) -> [(name: String, bytes: [UInt8])] {
        var changes: [(name: String, bytes: [UInt8])] = []
        for index in valid.indices {
            for replacement in [0x00, 0x01, 0x7f, 0x80, 0xff, valid[index] ^ 0x01] as [UInt8] {
                var changed = valid
                changed[index] = replacement
                changes.append(("byte \(index) = \(replacement)", changed))
            }
        }
        return changes
    }

    /// Every proper prefix of `valid` (each must be refused).
    public static func truncations(of valid: [UInt8]) -> [[UInt8]] {
        (0..<valid.count).map { Array(valid[..<$0]) }
    }
}
