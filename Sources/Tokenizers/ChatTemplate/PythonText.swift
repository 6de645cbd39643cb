/// Python `str` behaviour that templates lean on, over Unicode scalars (Python strings are code-point sequences,
/// not grapheme clusters, so lengths, slices and comparisons use scalars).
enum PythonText {
    /// `str.isspace()` / `str.strip()` / regex `\s`: bidirectional whitespace, segment and paragraph separators.
    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    /// Line boundaries `str.splitlines()` splits on (`\r\n` counts as one).
    static func isLineBreak(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x0A...0x0D, 0x1C...0x1E, 0x85, 0x2028, 0x2029: return true
        default: return false
        }
    }

    /// Largest string or list a template may build by repetition or padding (in scalars or items), so a hostile
    /// template fails with an error instead of exhausting memory.
    static let maxBuiltSize = 1 << 24

    static func checkSize(_ count: Int, unit: Int = 1) throws {
        let total = count.multipliedReportingOverflow(by: max(1, unit))
        if total.overflow || total.partialValue > maxBuiltSize {
            throw TemplateFailure("result too large (more than \(maxBuiltSize) characters or items)")
        }
    }

    /// `text * count` by doubling bytes (`String(repeating:count:)` appends one copy at a time, which is slow for
    /// the short strings templates repeat).
    static func repeated(_ text: String, _ count: Int) -> String {
        guard count > 0, !text.isEmpty else { return "" }
        let unit = Array(text.utf8)
        let total = unit.count * count
        var bytes = unit
        bytes.reserveCapacity(total)
        while bytes.count * 2 <= total { bytes.append(contentsOf: bytes) }
        bytes.append(contentsOf: bytes[0..<(total - bytes.count)])
        return String(decoding: bytes, as: UTF8.self)
    }

    static func scalars(_ text: String) -> [Unicode.Scalar] { Array(text.unicodeScalars) }

    static func string<S: Sequence>(_ scalars: S) -> String where S.Element == Unicode.Scalar {
        var result = String.UnicodeScalarView()
        result.append(contentsOf: scalars)
        return String(result)
    }

    static func length(_ text: String) -> Int { text.unicodeScalars.count }

    /// `str.strip(chars)`; `chars == nil` strips whitespace.
    static func strip(_ text: String, _ chars: String? = nil, leading: Bool = true, trailing: Bool = true) -> String {
        let set = chars.map { Set($0.unicodeScalars) }
        let strippable: (Unicode.Scalar) -> Bool = { scalar in set.map { $0.contains(scalar) } ?? isWhitespace(scalar) }
        let view = Array(text.unicodeScalars)
        var start = 0
        var end = view.count
        if leading { while start < end && strippable(view[start]) { start += 1 } }
        if trailing { while end > start && strippable(view[end - 1]) { end -= 1 } }
        return string(view[start..<end])
    }

    /// `str.split(sep, maxsplit)`; `sep == nil` splits on whitespace runs and drops empty pieces.
    static func split(_ text: String, separator: String?, maxSplit: Int = -1, fromRight: Bool = false) throws -> [String] {
        let view = Array(text.unicodeScalars)
        guard let separator else {
            // Words as scalar ranges; with a limit, the remainder keeps its far-side whitespace, as in Python.
            var words: [Range<Int>] = []
            var index = 0
            while index < view.count {
                if isWhitespace(view[index]) { index += 1; continue }
                let start = index
                while index < view.count && !isWhitespace(view[index]) { index += 1 }
                words.append(start..<index)
            }
            if maxSplit < 0 || words.count <= maxSplit {
                return words.map { string(view[$0]) }
            }
            if fromRight {
                let kept = words.suffix(maxSplit)
                let head = string(view[0..<words[words.count - maxSplit - 1].upperBound])
                return [head] + kept.map { string(view[$0]) }
            }
            let kept = words.prefix(maxSplit)
            return kept.map { string(view[$0]) } + [string(view[words[maxSplit].lowerBound...])]
        }
        let sep = Array(separator.unicodeScalars)
        if sep.isEmpty { throw TemplateFailure("empty separator") }
        var pieces: [String] = []
        if fromRight {
            var end = view.count
            var position = view.count - sep.count
            while position >= 0 && (maxSplit < 0 || pieces.count < maxSplit) {
                if Array(view[position..<position + sep.count]) == sep {
                    pieces.append(string(view[(position + sep.count)..<end]))
                    end = position
                    position -= sep.count
                } else {
                    position -= 1
                }
            }
            pieces.append(string(view[0..<end]))
            return pieces.reversed()
        }
        var start = 0
        var position = 0
        while position + sep.count <= view.count && (maxSplit < 0 || pieces.count < maxSplit) {
            if Array(view[position..<position + sep.count]) == sep {
                pieces.append(string(view[start..<position]))
                position += sep.count
                start = position
            } else {
                position += 1
            }
        }
        pieces.append(string(view[start...]))
        return pieces
    }

    /// `str.splitlines(keepends)`.
    static func splitLines(_ text: String, keepEnds: Bool = false) -> [String] {
        let view = Array(text.unicodeScalars)
        var lines: [String] = []
        var start = 0
        var index = 0
        while index < view.count {
            if isLineBreak(view[index]) {
                var end = index + 1
                if view[index] == "\r" && end < view.count && view[end] == "\n" { end += 1 }
                lines.append(string(view[start..<(keepEnds ? end : index)]))
                start = end
                index = end
            } else {
                index += 1
            }
        }
        if start < view.count { lines.append(string(view[start...])) }
        return lines
    }

    /// Index of the first occurrence of `needle` in `text` (in scalars), or -1, searching `range`.
    static func find(_ text: String, _ needle: String, fromRight: Bool = false) -> Int {
        let view = Array(text.unicodeScalars)
        let target = Array(needle.unicodeScalars)
        if target.count > view.count { return -1 }
        let positions = Array(0...(view.count - target.count))
        for position in (fromRight ? positions.reversed() : positions)
        where view[position..<position + target.count].elementsEqual(target) {
            return position
        }
        return -1
    }

    /// Non-overlapping occurrences, as `str.count`.
    static func count(_ text: String, _ needle: String) -> Int {
        let view = Array(text.unicodeScalars)
        let target = Array(needle.unicodeScalars)
        if target.isEmpty { return view.count + 1 }
        var count = 0
        var position = 0
        while position + target.count <= view.count {
            if view[position..<position + target.count].elementsEqual(target) {
                count += 1
                position += target.count
            } else {
                position += 1
            }
        }
        return count
    }

    /// `str.replace(old, new, count)`.
    static func replace(_ text: String, _ old: String, _ new: String, count limit: Int = -1) -> String {
        let view = Array(text.unicodeScalars)
        let target = Array(old.unicodeScalars)
        let replacement = Array(new.unicodeScalars)
        var result: [Unicode.Scalar] = []
        var replaced = 0
        if target.isEmpty {
            // Python inserts the replacement between every scalar and at both ends.
            for scalar in view {
                if limit < 0 || replaced < limit { result += replacement; replaced += 1 }
                result.append(scalar)
            }
            if limit < 0 || replaced < limit { result += replacement }
            return string(result)
        }
        var position = 0
        while position < view.count {
            if (limit < 0 || replaced < limit) && position + target.count <= view.count
                && view[position..<position + target.count].elementsEqual(target)
            {
                result += replacement
                position += target.count
                replaced += 1
            } else {
                result.append(view[position])
                position += 1
            }
        }
        return string(result)
    }

    static func startsWith(_ text: String, _ prefix: String) -> Bool {
        text.unicodeScalars.starts(with: prefix.unicodeScalars)
    }

    static func endsWith(_ text: String, _ suffix: String) -> Bool {
        text.unicodeScalars.reversed().starts(with: suffix.unicodeScalars.reversed())
    }

    static func upper(_ text: String) -> String { text.uppercased() }
    static func lower(_ text: String) -> String { text.lowercased() }

    static func isCased(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter: return true
        default: return false
        }
    }

    /// `str.title()`: a scalar after a cased letter is lowercased, any other is titlecased.
    static func title(_ text: String) -> String {
        var result = ""
        var previousCased = false
        for scalar in text.unicodeScalars {
            result += previousCased ? scalar.properties.lowercaseMapping : scalar.properties.titlecaseMapping
            previousCased = isCased(scalar)
        }
        return result
    }

    /// `str.capitalize()`: the first scalar titlecased, the rest lowercased.
    static func capitalize(_ text: String) -> String {
        var result = ""
        for (index, scalar) in text.unicodeScalars.enumerated() {
            result += index == 0 ? scalar.properties.titlecaseMapping : scalar.properties.lowercaseMapping
        }
        return result
    }

    static func swapCase(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar.properties.generalCategory {
            case .uppercaseLetter: result += scalar.properties.lowercaseMapping
            case .lowercaseLetter: result += scalar.properties.uppercaseMapping
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// Python's code-point order, which is what `<` on `str` uses (Swift's `<` does not).
    static func less(_ lhs: String, _ rhs: String) -> Bool {
        lhs.unicodeScalars.lexicographicallyPrecedes(rhs.unicodeScalars) { $0.value < $1.value }
    }

    /// `str.isprintable()` for one scalar, which decides what `repr` escapes.
    static func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
        if scalar == " " { return true }
        switch scalar.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator,
            .spaceSeparator:
            return false
        default:
            return true
        }
    }

    /// `repr(str)`: single quotes unless the text has a single quote and no double quote.
    static func repr(_ text: String) -> String {
        let hasSingle = text.unicodeScalars.contains("'")
        let hasDouble = text.unicodeScalars.contains("\"")
        let quote: Unicode.Scalar = hasSingle && !hasDouble ? "\"" : "'"
        var result = String(quote)
        for scalar in text.unicodeScalars {
            switch scalar {
            case quote, "\\": result += "\\" + String(scalar)
            case "\t": result += "\\t"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            default:
                if isPrintable(scalar) {
                    result.unicodeScalars.append(scalar)
                } else if scalar.value < 0x100 {
                    result += "\\x" + hex(scalar.value, width: 2)
                } else if scalar.value < 0x10000 {
                    result += "\\u" + hex(scalar.value, width: 4)
                } else {
                    result += "\\U" + hex(scalar.value, width: 8)
                }
            }
        }
        result.unicodeScalars.append(quote)
        return result
    }

    static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
