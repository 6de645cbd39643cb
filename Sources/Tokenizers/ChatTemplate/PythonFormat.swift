import Foundation

/// Python's two string-formatting mini-languages: `'%s and %d' % args` (also the `format` filter) and
/// `'{} {name}'.format(...)`. Covers the conversions templates use; anything else is an error, not a guess.
enum PythonFormat {
    // MARK: - printf style

    static func percent(_ format: String, _ values: TemplateValue) throws -> String {
        var positional: [TemplateValue]
        var mapping: TemplateDictionary?
        switch values {
        case .array(let items): positional = items
        case .dictionary(let dictionary):
            positional = [values]
            mapping = dictionary
        default: positional = [values]
        }
        var nextArgument = 0
        let scalars = Array(format.unicodeScalars)
        var output = ""
        var index = 0
        func take() throws -> TemplateValue {
            guard nextArgument < positional.count else {
                throw TemplateFailure("not enough arguments for format string")
            }
            defer { nextArgument += 1 }
            return positional[nextArgument]
        }
        var usedMapping = false
        while index < scalars.count {
            let scalar = scalars[index]
            index += 1
            guard scalar == "%" else {
                output.unicodeScalars.append(scalar)
                continue
            }
            guard index < scalars.count else { throw TemplateFailure("incomplete format") }
            var value: TemplateValue?
            if scalars[index] == "(" {
                guard let close = scalars[index...].firstIndex(of: ")"), let mapping else {
                    throw TemplateFailure("format requires a mapping")
                }
                let key = PythonText.string(scalars[(index + 1)..<close])
                guard let found = mapping[key] else { throw TemplateFailure("KeyError: \(PythonText.repr(key))") }
                value = found
                usedMapping = true
                index = close + 1
            }
            var flags = ""
            while index < scalars.count, "-+ #0".unicodeScalars.contains(scalars[index]) {
                flags.unicodeScalars.append(scalars[index])
                index += 1
            }
            var width = ""
            while index < scalars.count, ("0"..."9").contains(scalars[index]) {
                width.unicodeScalars.append(scalars[index])
                index += 1
            }
            var precision: Int?
            if index < scalars.count, scalars[index] == "." {
                index += 1
                var digits = ""
                while index < scalars.count, ("0"..."9").contains(scalars[index]) {
                    digits.unicodeScalars.append(scalars[index])
                    index += 1
                }
                precision = Int(digits) ?? 0
            }
            guard index < scalars.count else { throw TemplateFailure("incomplete format") }
            let conversion = scalars[index]
            index += 1
            if conversion == "%" {
                output += "%"
                continue
            }
            try PythonText.checkSize(Int(width) ?? 0)
            let argument = try value ?? take()
            let spec = FormatSpec(
                fill: " ", align: flags.contains("-") ? "<" : (flags.contains("0") ? "=" : ">"),
                sign: flags.contains("+") ? "+" : (flags.contains(" ") ? " " : "-"),
                zeroPad: flags.contains("0") && !flags.contains("-"), width: Int(width) ?? 0, precision: precision,
                type: conversion == "i" || conversion == "u" ? "d" : Character(conversion))
            switch conversion {
            case "s": output += pad(truncate(argument.pythonString, spec.precision), spec, numeric: false)
            case "r", "a": output += pad(truncate(argument.pythonRepr, spec.precision), spec, numeric: false)
            case "d", "i", "u", "f", "F", "e", "E", "g", "G", "x", "X", "o":
                output += try formatNumber(argument, spec)
            case "c":
                switch argument {
                case .string(let text) where PythonText.length(text) == 1: output += pad(text, spec, numeric: false)
                case .int(let code):
                    guard let scalar = Unicode.Scalar(UInt32(clamping: max(0, code))) else {
                        throw TemplateFailure("%c arg not in range")
                    }
                    output += pad(String(scalar), spec, numeric: false)
                default: throw TemplateFailure("%c requires int or char")
                }
            default:
                throw TemplateFailure("unsupported format character '\(conversion)'")
            }
        }
        // Python only complains about unused arguments given as a tuple or a plain (non-mapping) value.
        let mappingLike: Bool
        switch values {
        case .dictionary, .undefined: mappingLike = true
        default: mappingLike = false
        }
        if !usedMapping && !mappingLike && nextArgument < positional.count {
            throw TemplateFailure("not all arguments converted during string formatting")
        }
        return output
    }

    // MARK: - str.format

    static func braces(_ format: String, positional: [TemplateValue], keyword: [String: TemplateValue]) throws -> String {
        let scalars = Array(format.unicodeScalars)
        var output = ""
        var index = 0
        var automatic = 0
        while index < scalars.count {
            let scalar = scalars[index]
            if scalar == "{" {
                if index + 1 < scalars.count && scalars[index + 1] == "{" {
                    output += "{"
                    index += 2
                    continue
                }
                guard let close = scalars[index...].firstIndex(of: "}") else {
                    throw TemplateFailure("Single '{' encountered in format string")
                }
                var field = PythonText.string(scalars[(index + 1)..<close])
                index = close + 1
                var specText = ""
                if let colon = field.firstIndex(of: ":") {
                    specText = String(field[field.index(after: colon)...])
                    field = String(field[..<colon])
                }
                var conversion: Character?
                if let bang = field.firstIndex(of: "!") {
                    conversion = field[field.index(after: bang)...].first
                    field = String(field[..<bang])
                }
                let value: TemplateValue
                if field.isEmpty {
                    guard automatic < positional.count else {
                        throw TemplateFailure("Replacement index \(automatic) out of range for positional args tuple")
                    }
                    value = positional[automatic]
                    automatic += 1
                } else if let number = Int(field) {
                    guard number >= 0 && number < positional.count else {
                        throw TemplateFailure("Replacement index \(number) out of range for positional args tuple")
                    }
                    value = positional[number]
                } else {
                    guard let found = keyword[field] else { throw TemplateFailure("KeyError: \(PythonText.repr(field))") }
                    value = found
                }
                var converted = value
                if conversion == "r" || conversion == "a" { converted = .string(value.pythonRepr) }
                if conversion == "s" { converted = .string(value.pythonString) }
                output += try formatValue(converted, spec: specText)
            } else if scalar == "}" {
                guard index + 1 < scalars.count && scalars[index + 1] == "}" else {
                    throw TemplateFailure("Single '}' encountered in format string")
                }
                output += "}"
                index += 2
            } else {
                output.unicodeScalars.append(scalar)
                index += 1
            }
        }
        return output
    }

    // MARK: - Format specs

    struct FormatSpec {
        var fill: Character = " "
        var align: Character?
        var sign: Character = "-"
        var zeroPad = false
        var width = 0
        var precision: Int?
        var type: Character?
    }

    /// `format(value, spec)` for the common mini-language: `[[fill]align][sign][0][width][.precision][type]`.
    static func formatValue(_ value: TemplateValue, spec text: String) throws -> String {
        if text.isEmpty { return value.pythonString }
        var chars = Array(text)
        var spec = FormatSpec()
        if chars.count >= 2, "<>^=".contains(chars[1]) {
            spec.fill = chars[0]
            spec.align = chars[1]
            chars.removeFirst(2)
        } else if let first = chars.first, "<>^=".contains(first) {
            spec.align = first
            chars.removeFirst()
        }
        if let first = chars.first, "+- ".contains(first) {
            spec.sign = first
            chars.removeFirst()
        }
        if chars.first == "0" {
            spec.zeroPad = true
            chars.removeFirst()
        }
        var width = ""
        while let first = chars.first, first.isASCII, first.isNumber {
            width.append(first)
            chars.removeFirst()
        }
        spec.width = Int(width) ?? 0
        try PythonText.checkSize(spec.width)
        if chars.first == "." {
            chars.removeFirst()
            var digits = ""
            while let first = chars.first, first.isASCII, first.isNumber {
                digits.append(first)
                chars.removeFirst()
            }
            spec.precision = Int(digits) ?? 0
        }
        if let first = chars.first {
            spec.type = first
            chars.removeFirst()
        }
        if !chars.isEmpty { throw TemplateFailure("Invalid format specifier '\(text)'") }
        switch value {
        case .string(let string):
            guard spec.type == nil || spec.type == "s" else {
                throw TemplateFailure("Unknown format code '\(spec.type!)' for object of type 'str'")
            }
            return pad(truncate(string, spec.precision), spec, numeric: false)
        case .int, .bool, .double:
            return try formatNumber(value, spec)
        default:
            return pad(value.pythonString, spec, numeric: false)
        }
    }

    private static func truncate(_ text: String, _ precision: Int?) -> String {
        guard let precision else { return text }
        return PythonText.string(text.unicodeScalars.prefix(precision))
    }

    private static func pad(_ text: String, _ spec: FormatSpec, numeric: Bool) -> String {
        let length = PythonText.length(text)
        guard spec.width > length else { return text }
        let padding = spec.width - length
        let fill = spec.zeroPad && spec.align == nil ? "0" : String(spec.fill)
        switch spec.align ?? (numeric ? ">" : "<") {
        case "<": return text + String(repeating: fill, count: padding)
        case "^":
            let left = padding / 2
            return String(repeating: fill, count: left) + text + String(repeating: fill, count: padding - left)
        case "=":
            if numeric, let sign = text.first, "+- ".contains(sign) {
                return String(sign) + String(repeating: spec.zeroPad ? "0" : fill, count: padding) + text.dropFirst()
            }
            return String(repeating: spec.zeroPad ? "0" : fill, count: padding) + text
        default: return String(repeating: fill, count: padding) + text
        }
    }

    private static func formatNumber(_ value: TemplateValue, _ spec: FormatSpec) throws -> String {
        let number: Double
        var integer: Int?
        switch value {
        case .bool(let flag):
            integer = flag ? 1 : 0
            number = Double(integer!)
        case .int(let int):
            integer = int
            number = Double(int)
        case .double(let double):
            number = double
        case .string(let text):
            if let type = spec.type, "dxXo".contains(type) {
                throw TemplateFailure("%\(type) format: a real number is required, not str")
            }
            guard let parsed = Double(text) else { throw TemplateFailure("must be real number, not str") }
            number = parsed
        default:
            throw TemplateFailure("must be real number, not \(value.typeName)")
        }
        var body: String
        let negative = number < 0 || (number == 0 && number.sign == .minus && integer == nil)
        let magnitude = abs(number)
        switch spec.type {
        case "d"?:
            guard number.isFinite else { throw TemplateFailure("cannot convert float to integer") }
            body = String(integer.map { $0.magnitude } ?? UInt(magnitude.rounded(.towardZero)))
        case "x"?, "X"?, "o"?:
            guard let int = integer ?? (number.isFinite ? Int(number) : nil) else {
                throw TemplateFailure("cannot convert float to integer")
            }
            body = String(int.magnitude, radix: spec.type == "o" ? 8 : 16, uppercase: spec.type == "X")
        case "f"?, "F"?, "e"?, "E"?, "g"?, "G"?, "%"?:
            let precision = spec.precision ?? 6
            if precision > 1000 { throw TemplateFailure("precision too large") }
            let scaled = spec.type == "%" ? magnitude * 100 : magnitude
            let code = spec.type == "%" ? "f" : String(spec.type!)
            body = String(format: "%.\(precision)\(code)", scaled)
            if spec.type == "%" { body += "%" }
        case nil:
            if let integer {
                body = String(integer.magnitude)
            } else if let precision = spec.precision {
                body = String(format: "%.\(precision)g", magnitude)
            } else {
                body = TemplateValue.pythonFloatRepr(magnitude)
            }
        default:
            throw TemplateFailure("Unknown format code '\(spec.type!)' for a number")
        }
        let sign = negative ? "-" : (spec.sign == "+" ? "+" : (spec.sign == " " ? " " : ""))
        var numericSpec = spec
        if spec.zeroPad && spec.align == nil { numericSpec.align = "=" }
        return pad(sign + body, numericSpec, numeric: true)
    }
}
