/// The character classes the pre-tokenizer regexes use, defined as llama.cpp's `unicode_cpt_flags` defines them:
/// `\p{L}` is general category L*, `\p{N}` is Nd/Nl/No, and `\s` is exactly Unicode's 25 White_Space
/// code points (not U+001C...U+001F, which some regex engines add).
///
/// Every code point inside the text has exactly one class; `outside` (0) marks positions past the end of the
/// piece being split, which llama.cpp's hand-written matchers treat as "no character".
enum ScalarClass {
    static let outside: UInt8 = 0
    static let letter: UInt8 = 1
    static let number: UInt8 = 2
    static let whitespace: UInt8 = 4
    /// Anything else: punctuation, symbols, marks, controls, unassigned.
    static let other: UInt8 = 8

    /// Class of each ASCII code point.
    private static let ascii: [UInt8] = (0..<128).map { value in
        switch value {
        case 0x41...0x5A, 0x61...0x7A: return letter
        case 0x30...0x39: return number
        case 0x09...0x0D, 0x20: return whitespace
        default: return other
        }
    }

    static func of(_ value: UInt32) -> UInt8 {
        if value < 128 { return ascii[Int(value)] }
        switch value {
        case 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return whitespace
        default:
            break
        }
        guard let scalar = Unicode.Scalar(value) else { return other }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return letter
        case .decimalNumber, .letterNumber, .otherNumber:
            return number
        default:
            return other
        }
    }

    /// `\p{P}` for non-ASCII code points (used only by the `default` pre-tokenizer's first split).
    static func isPunctuation(_ value: UInt32) -> Bool {
        guard let scalar = Unicode.Scalar(value) else { return false }
        switch scalar.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return true
        default:
            return false
        }
    }
}
