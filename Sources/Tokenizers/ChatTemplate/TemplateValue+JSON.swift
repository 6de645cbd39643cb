/// JSON in and out: parsing keeps object key order (a dictionary's order shows in `tojson` and printing), and
/// `tojson` writes exactly what Python's `json.dumps` writes, since transformers' `tojson` filter is `json.dumps`.
extension TemplateValue {
    /// Parses JSON text into template values: objects become ordered dictionaries, integers `.int` (falling back to
    /// `.double` beyond 64 bits), other numbers `.double`, `null` `.none`.
    public init(json text: String) throws {
        var parser = JSONReader(scalars: Array(text.unicodeScalars))
        parser.skipWhitespace()
        self = try parser.value(depth: 0)
        parser.skipWhitespace()
        if parser.index < parser.scalars.count { throw parser.failure("unexpected data after the JSON value") }
    }

    /// Options of Python's `json.dumps` that templates pass to `tojson`.
    struct JSONOptions {
        var ensureASCII = false
        /// nil: one line. Otherwise the text of one indentation level.
        var indent: String?
        var itemSeparator: String?
        var keySeparator = ": "
        var sortKeys = false
    }

    /// Python's `json.dumps(self, ...)`.
    func pythonJSON(_ options: JSONOptions) throws -> String {
        var output = ""
        let itemSeparator = options.itemSeparator ?? (options.indent == nil ? ", " : ",")
        try writeJSON(into: &output, options, itemSeparator: itemSeparator, level: 0)
        return output
    }

    private func writeJSON(into output: inout String, _ options: JSONOptions, itemSeparator: String, level: Int) throws {
        switch self {
        case .none: output += "null"
        case .bool(let value): output += value ? "true" : "false"
        case .int(let value): output += String(value)
        case .double(let value):
            if value.isNaN {
                output += "NaN"
            } else if value.isInfinite {
                output += value < 0 ? "-Infinity" : "Infinity"
            } else {
                output += TemplateValue.pythonFloatRepr(value)
            }
        case .string(let value): TemplateValue.writeJSONString(value, into: &output, ensureASCII: options.ensureASCII)
        case .array(let items):
            if items.isEmpty {
                output += "[]"
                return
            }
            output += "["
            let newline = options.indent.map { "\n" + String(repeating: $0, count: level + 1) } ?? ""
            output += newline
            for (index, item) in items.enumerated() {
                if index > 0 { output += itemSeparator + newline }
                try item.writeJSON(into: &output, options, itemSeparator: itemSeparator, level: level + 1)
            }
            output += options.indent.map { "\n" + String(repeating: $0, count: level) } ?? ""
            output += "]"
        case .dictionary(let dictionary):
            if dictionary.isEmpty {
                output += "{}"
                return
            }
            output += "{"
            let newline = options.indent.map { "\n" + String(repeating: $0, count: level + 1) } ?? ""
            output += newline
            var pairs = dictionary.pairs
            if options.sortKeys { pairs.sort { PythonText.less($0.key, $1.key) } }
            for (index, pair) in pairs.enumerated() {
                if index > 0 { output += itemSeparator + newline }
                TemplateValue.writeJSONString(pair.key, into: &output, ensureASCII: options.ensureASCII)
                output += options.keySeparator
                try pair.value.writeJSON(into: &output, options, itemSeparator: itemSeparator, level: level + 1)
            }
            output += options.indent.map { "\n" + String(repeating: $0, count: level) } ?? ""
            output += "}"
        case .undefined, .object:
            throw TemplateFailure("Object of type \(typeName) is not JSON serializable")
        }
    }

    private static func writeJSONString(_ text: String, into output: inout String, ensureASCII: Bool) {
        output += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case "\u{08}": output += "\\b"
            case "\u{0C}": output += "\\f"
            default:
                if scalar.value < 0x20 || (ensureASCII && scalar.value > 0x7E) {
                    if scalar.value > 0xFFFF {
                        let offset = scalar.value - 0x10000
                        output += "\\u" + PythonText.hex(0xD800 + (offset >> 10), width: 4)
                        output += "\\u" + PythonText.hex(0xDC00 + (offset & 0x3FF), width: 4)
                    } else {
                        output += "\\u" + PythonText.hex(scalar.value, width: 4)
                    }
                } else {
                    output.unicodeScalars.append(scalar)
                }
            }
        }
        output += "\""
    }
}

/// A small JSON reader that keeps object keys in document order (Foundation's does not).
private struct JSONReader {
    let scalars: [Unicode.Scalar]
    var index = 0

    static let maxDepth = 512

    func failure(_ message: String) -> ChatTemplateError {
        ChatTemplateError(kind: .syntax, line: 1, column: index + 1, message: "invalid JSON: \(message)")
    }

    mutating func skipWhitespace() {
        while index < scalars.count, [" ", "\t", "\n", "\r"].contains(scalars[index]) { index += 1 }
    }

    private mutating func expect(_ literal: String) throws {
        for scalar in literal.unicodeScalars {
            guard index < scalars.count, scalars[index] == scalar else { throw failure("expected '\(literal)'") }
            index += 1
        }
    }

    mutating func value(depth: Int) throws -> TemplateValue {
        guard depth < JSONReader.maxDepth else { throw failure("nesting too deep") }
        guard index < scalars.count else { throw failure("unexpected end of input") }
        switch scalars[index] {
        case "{":
            index += 1
            var dictionary = TemplateDictionary()
            skipWhitespace()
            if index < scalars.count && scalars[index] == "}" {
                index += 1
                return .dictionary(dictionary)
            }
            while true {
                skipWhitespace()
                guard index < scalars.count, scalars[index] == "\"" else { throw failure("expected a string key") }
                let key = try string()
                skipWhitespace()
                try expect(":")
                skipWhitespace()
                dictionary[key] = try value(depth: depth + 1)
                skipWhitespace()
                if index < scalars.count && scalars[index] == "," {
                    index += 1
                    continue
                }
                try expect("}")
                return .dictionary(dictionary)
            }
        case "[":
            index += 1
            var items: [TemplateValue] = []
            skipWhitespace()
            if index < scalars.count && scalars[index] == "]" {
                index += 1
                return .array(items)
            }
            while true {
                skipWhitespace()
                items.append(try value(depth: depth + 1))
                skipWhitespace()
                if index < scalars.count && scalars[index] == "," {
                    index += 1
                    continue
                }
                try expect("]")
                return .array(items)
            }
        case "\"":
            return .string(try string())
        case "t":
            try expect("true")
            return .bool(true)
        case "f":
            try expect("false")
            return .bool(false)
        case "n":
            try expect("null")
            return .none
        default:
            return try number()
        }
    }

    private mutating func number() throws -> TemplateValue {
        let start = index
        var isInteger = true
        if index < scalars.count && scalars[index] == "-" { index += 1 }
        while index < scalars.count {
            let scalar = scalars[index]
            if ("0"..."9").contains(scalar) {
                index += 1
            } else if [".", "e", "E", "+", "-"].contains(scalar) {
                isInteger = false
                index += 1
            } else {
                break
            }
        }
        let text = PythonText.string(scalars[start..<index])
        if text.isEmpty || text == "-" { throw failure("unexpected character") }
        if isInteger, let value = Int(text) { return .int(value) }
        guard let value = Double(text) else { throw failure("invalid number '\(text)'") }
        return .double(value)
    }

    private mutating func hexQuad() throws -> UInt32 {
        guard index + 4 <= scalars.count,
            let value = UInt32(PythonText.string(scalars[index..<index + 4]), radix: 16)
        else { throw failure("invalid \\u escape") }
        index += 4
        return value
    }

    private mutating func string() throws -> String {
        index += 1  // opening quote
        var result = String.UnicodeScalarView()
        while index < scalars.count {
            let scalar = scalars[index]
            index += 1
            switch scalar {
            case "\"":
                return String(result)
            case "\\":
                guard index < scalars.count else { break }
                let escape = scalars[index]
                index += 1
                switch escape {
                case "\"", "\\", "/": result.append(escape)
                case "b": result.append("\u{08}")
                case "f": result.append("\u{0C}")
                case "n": result.append("\n")
                case "r": result.append("\r")
                case "t": result.append("\t")
                case "u":
                    var value = try hexQuad()
                    if (0xD800...0xDBFF).contains(value), index + 1 < scalars.count, scalars[index] == "\\",
                        scalars[index + 1] == "u"
                    {
                        let saved = index
                        index += 2
                        let low = try hexQuad()
                        if (0xDC00...0xDFFF).contains(low) {
                            value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            index = saved
                        }
                    }
                    result.append(Unicode.Scalar(value) ?? "\u{FFFD}")
                default:
                    throw failure("invalid escape '\\\(escape)'")
                }
            default:
                result.append(scalar)
            }
        }
        throw failure("unterminated string")
    }
}
