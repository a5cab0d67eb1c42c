/// Gzip decompression (RFC 1952 over RFC 1951 inflate) for gzipped canister modules, in pure
/// Swift because neither ICCore nor Foundation on Linux offers one.
enum Gzip {
    struct Error: Swift.Error, CustomStringConvertible {
        var description: String
    }

    static func decompress(_ data: [UInt8], limit: Int) throws(Error) -> [UInt8] {
        guard data.count >= 18, data[0] == 0x1F, data[1] == 0x8B, data[2] == 8 else { throw Error(description: "not a gzip stream") }
        let flags = data[3]
        var offset = 10
        if flags & 4 != 0 {
            guard offset + 2 <= data.count else { throw Error(description: "truncated header") }
            offset += 2 + Int(data[offset]) | Int(data[offset + 1]) << 8
        }
        if flags & 8 != 0 { while offset < data.count, data[offset] != 0 { offset += 1 }; offset += 1 }
        if flags & 16 != 0 { while offset < data.count, data[offset] != 0 { offset += 1 }; offset += 1 }
        if flags & 2 != 0 { offset += 2 }
        guard offset < data.count else { throw Error(description: "truncated header") }
        var inflater = Inflater(input: data, position: offset, limit: limit)
        try inflater.run()
        return inflater.output
    }

    private struct Huffman {
        var counts = [Int](repeating: 0, count: 16)
        var symbols: [Int] = []

        init(lengths: [Int]) throws(Error) {
            for length in lengths { counts[length] += 1 }
            counts[0] = 0
            var offsets = [Int](repeating: 0, count: 16)
            for i in 1..<16 { offsets[i] = offsets[i - 1] + counts[i - 1] }
            symbols = [Int](repeating: 0, count: lengths.count)
            for (symbol, length) in lengths.enumerated() where length != 0 {
                symbols[offsets[length]] = symbol
                offsets[length] += 1
            }
        }
    }

    private struct Inflater {
        let input: [UInt8]
        var position: Int
        let limit: Int
        var output: [UInt8] = []
        var bitBuffer = 0
        var bitCount = 0

        init(input: [UInt8], position: Int, limit: Int) {
            self.input = input
            self.position = position
            self.limit = limit
        }

        mutating func bits(_ n: Int) throws(Error) -> Int {
            while bitCount < n {
                guard position < input.count else { throw Error(description: "unexpected end of deflate data") }
                bitBuffer |= Int(input[position]) << bitCount
                position += 1
                bitCount += 8
            }
            let value = bitBuffer & ((1 << n) - 1)
            bitBuffer >>= n
            bitCount -= n
            return value
        }

        mutating func decode(_ h: Huffman) throws(Error) -> Int {
            var code = 0, first = 0, index = 0
            for length in 1..<16 {
                code |= try bits(1)
                let count = h.counts[length]
                if code - count < first { return h.symbols[index + (code - first)] }
                index += count
                first += count
                first <<= 1
                code <<= 1
            }
            throw Error(description: "invalid Huffman code")
        }

        static let lengthBase = [
            3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258,
        ]
        static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
        static let distanceBase = [
            1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073,
            4097, 6145, 8193, 12289, 16385, 24577,
        ]
        static let distanceExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]

        mutating func run() throws(Error) {
            var last = false
            while !last {
                last = try bits(1) == 1
                switch try bits(2) {
                case 0:
                    bitBuffer = 0
                    bitCount = 0
                    guard position + 4 <= input.count else { throw Error(description: "truncated stored block") }
                    let length = Int(input[position]) | Int(input[position + 1]) << 8
                    position += 4
                    guard position + length <= input.count else { throw Error(description: "truncated stored block") }
                    guard output.count + length <= limit else { throw Error(description: "output exceeds \(limit) bytes") }
                    output += input[position..<(position + length)]
                    position += length
                case 1:
                    var lengths = [Int](repeating: 8, count: 288)
                    for i in 144..<256 { lengths[i] = 9 }
                    for i in 256..<280 { lengths[i] = 7 }
                    try block(Huffman(lengths: lengths), Huffman(lengths: [Int](repeating: 5, count: 30)))
                case 2:
                    let literalCount = try bits(5) + 257, distanceCount = try bits(5) + 1, codeCount = try bits(4) + 4
                    let order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
                    var codeLengths = [Int](repeating: 0, count: 19)
                    for i in 0..<codeCount { codeLengths[order[i]] = try bits(3) }
                    let codeHuffman = try Huffman(lengths: codeLengths)
                    var lengths = [Int]()
                    while lengths.count < literalCount + distanceCount {
                        let symbol = try decode(codeHuffman)
                        switch symbol {
                        case 0..<16: lengths.append(symbol)
                        case 16:
                            guard let previous = lengths.last else { throw Error(description: "repeat without a previous length") }
                            lengths += [Int](repeating: previous, count: 3 + (try bits(2)))
                        case 17: lengths += [Int](repeating: 0, count: 3 + (try bits(3)))
                        default: lengths += [Int](repeating: 0, count: 11 + (try bits(7)))
                        }
                    }
                    guard lengths.count == literalCount + distanceCount else { throw Error(description: "too many code lengths") }
                    try block(Huffman(lengths: Array(lengths[0..<literalCount])), Huffman(lengths: Array(lengths[literalCount...])))
                default:
                    throw Error(description: "invalid block type")
                }
            }
        }

        mutating func block(_ literals: Huffman, _ distances: Huffman) throws(Error) {
            while true {
                let symbol = try decode(literals)
                if symbol < 256 {
                    guard output.count < limit else { throw Error(description: "output exceeds \(limit) bytes") }
                    output.append(UInt8(symbol))
                } else if symbol == 256 {
                    return
                } else {
                    let index = symbol - 257
                    guard index < 29 else { throw Error(description: "invalid length symbol") }
                    let length = Self.lengthBase[index] + (try bits(Self.lengthExtra[index]))
                    let distanceSymbol = try decode(distances)
                    guard distanceSymbol < 30 else { throw Error(description: "invalid distance symbol") }
                    let distance = Self.distanceBase[distanceSymbol] + (try bits(Self.distanceExtra[distanceSymbol]))
                    guard distance <= output.count else { throw Error(description: "distance too far back") }
                    guard output.count + length <= limit else { throw Error(description: "output exceeds \(limit) bytes") }
                    let start = output.count - distance
                    for i in 0..<length { output.append(output[start + i]) }
                }
            }
        }
    }
}
