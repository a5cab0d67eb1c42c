import ICCore
import Testing

@Suite("Candid: reading at wire types (CandidWireReader)")
struct CandidWireReaderTests {
    /// `(principal, vec blob)` the way the test canister's `send` reads it.
    private func readSendArguments(_ bytes: [UInt8]) throws(CandidError) -> (Principal, [[UInt8]]) {
        var reader = try CandidWireReader(bytes)
        let principal = try reader.principal(try reader.nextArgument())
        let (count, element) = try reader.vector(try reader.nextArgument())
        var blobs = [[UInt8]]()
        for _ in 0..<count { blobs.append(try reader.blob(element)) }
        try reader.finish()
        return (principal, blobs)
    }

    @Test("vec blob: the same values as the generic decoder, for 0 to 40 blobs of 0 to 300 bytes")
    func vectorOfBlobs() throws {
        var state: UInt64 = 7
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        for count in [0, 1, 2, 17, 40] {
            let principal = try Principal(bytes: (0..<Int(next() % 30)).map { _ in UInt8(next() & 0xff) })
            let blobs = (0..<count).map { _ in (0..<Int(next() % 301)).map { _ in UInt8(next() & 0xff) } }
            let bytes = try Candid.encode(principal, blobs.map { CandidBlob($0) })
            let (readPrincipal, readBlobs) = try readSendArguments(bytes)
            #expect(readPrincipal == principal)
            #expect(readBlobs == blobs)
            let generic = try Candid.decode(Principal.self, [CandidBlob].self, from: bytes)
            #expect(generic.1.map(\.bytes) == readBlobs)
        }
    }

    @Test("a vec longer than the bytes left is refused before anything is reserved")
    func vectorLengthBeyondInput() throws {
        // DIDL, table [vec 1, vec nat8], args [principal, type 0], principal aaaaa-aa, count 2^40.
        var bytes: [UInt8] = Array("DIDL".utf8) + [2, 0x6d, 0x01, 0x6d, 0x7b, 2, 0x68, 0x00, 1, 0]
        bytes += [0x80, 0x80, 0x80, 0x80, 0x80, 0x20]
        #expect(throws: CandidError.self) { try readSendArguments(bytes) }
        do {
            _ = try readSendArguments(bytes)
        } catch {
            #expect(error.kind == .truncated)
        }
    }

    @Test("vec null may be longer than the input, up to the zero-sized limit")
    func vectorOfNulls() throws {
        let bytes = try Candid.encode([CandidNull](repeating: CandidNull(), count: 5_000))
        var reader = try CandidWireReader(bytes)
        let (count, element) = try reader.vector(try reader.nextArgument())
        #expect(count == 5_000)
        for _ in 0..<count { try reader.null(element) }
        try reader.finish()

        var limited = try CandidWireReader(bytes, limits: .init(maxZeroSizedValues: 100))
        #expect(throws: CandidError.self) { _ = try limited.vector(try limited.nextArgument()) }
    }

    @Test("vector of something that is not a vec is a type mismatch")
    func notAVector() throws {
        var reader = try CandidWireReader(try Candid.encode(UInt64(5)))
        do {
            _ = try reader.vector(try reader.nextArgument())
            Issue.record("a nat64 was read as a vec")
        } catch {
            guard case .typeMismatch = error.kind else {
                Issue.record("expected a type mismatch, got \(error)")
                return
            }
        }
    }
}
