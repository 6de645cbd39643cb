/// GPT-2's `bytes_to_unicode`: every byte gets a printable Unicode character, so byte-level BPE vocabularies
/// are stored as text. Printable Latin-1 bytes (`!`...`~`, `¡`...`¬`, `®`...`ÿ`) stand for themselves; the
/// other 68 bytes, in increasing order, become U+0100, U+0101, ... (so a space is `Ġ`, U+0120).
enum ByteLevelAlphabet {
    /// Scalar value standing for each byte.
    static let scalarForByte: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            if isPrintable(byte) {
                table[byte] = UInt32(byte)
            } else {
                table[byte] = next
                next += 1
            }
        }
        return table
    }()

    /// Inverse of `scalarForByte` for scalars below 324; -1 where a scalar stands for no byte.
    static let byteForScalar: [Int16] = {
        var table = [Int16](repeating: -1, count: 256 + 68)
        for (byte, scalar) in scalarForByte.enumerated() {
            table[Int(scalar)] = Int16(byte)
        }
        return table
    }()

    /// UTF-8 encoding of the character standing for each byte (1 or 2 bytes long).
    static let utf8ForByte: [[UInt8]] = scalarForByte.map { Array(String(Unicode.Scalar($0)!).utf8) }

    private static func isPrintable(_ byte: Int) -> Bool {
        (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
    }

    /// Decodes a stored token string back to bytes. A character outside the alphabet (only in odd vocabularies)
    /// passes through as its own UTF-8, as Hugging Face's ByteLevel decoder does; llama.cpp writes an
    /// `[UNK_BYTE_0x..]` marker there instead.
    static func decode(_ text: String, into bytes: inout [UInt8], table: [Int16] = byteForScalar) {
        for scalar in text.unicodeScalars {
            let value = Int(scalar.value)
            if value < table.count, table[value] >= 0 {
                bytes.append(UInt8(table[value]))
            } else {
                bytes.append(contentsOf: String(scalar).utf8)
            }
        }
    }
}
