/// How Python prints values, which is what `{{ x }}`, `~`, `|string` and `|join` produce.
extension TemplateValue {
    /// Python `str(x)`, with Jinja's undefined printing as "".
    var pythonString: String {
        switch self {
        case .undefined: return ""
        case .string(let value): return value
        default: return pythonRepr
        }
    }

    /// Python `repr(x)`: strings quoted, containers shown with their items' `repr`.
    var pythonRepr: String {
        switch self {
        case .undefined: return "Undefined"
        case .none: return "None"
        case .bool(let value): return value ? "True" : "False"
        case .int(let value): return String(value)
        case .double(let value): return TemplateValue.pythonFloatRepr(value)
        case .string(let value): return PythonText.repr(value)
        case .array(let items): return "[" + items.map(\.pythonRepr).joined(separator: ", ") + "]"
        case .dictionary(let dictionary):
            let items = dictionary.pairs.map { PythonText.repr($0.key) + ": " + $0.value.pythonRepr }
            return "{" + items.joined(separator: ", ") + "}"
        case .object(let object):
            switch object.kind {
            case .namespace: return "<Namespace>"
            case .macro(_, let name): return "<Macro '\(name)'>"
            case .builtin(let name): return "<function \(name)>"
            case .method(let receiver, let name): return "<built-in method \(name) of \(receiver.typeName) object>"
            case .unsafeMethod: return ""
            case .loop(let state): return "<LoopContext \(state.index0 + 1)/\(state.length)>"
            case .iterator(_, let name): return "<\(name) object>"
            }
        }
    }

    /// Python's `repr(float)`: the shortest digits that round-trip, in fixed notation for decimal exponents
    /// -4 through 15 and scientific notation (`1e+16`, `1.5e-05`) outside that range.
    static func pythonFloatRepr(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        if value == 0 { return value.sign == .minus ? "-0.0" : "0.0" }
        // Swift's description also prints the shortest round-trip digits; only the layout differs.
        let (negative, digits, exponent) = decimalDigits(value)
        var result = negative ? "-" : ""
        if exponent < -4 || exponent >= 16 {
            result += String(digits.first!)
            if digits.count > 1 { result += "." + digits.dropFirst() }
            let magnitude = String(abs(exponent))
            result += (exponent < 0 ? "e-" : "e+") + (magnitude.count < 2 ? "0" : "") + magnitude
        } else if exponent < 0 {
            result += "0." + String(repeating: "0", count: -exponent - 1) + digits
        } else if digits.count > exponent + 1 {
            let split = digits.index(digits.startIndex, offsetBy: exponent + 1)
            result += digits[..<split] + "." + digits[split...]
        } else {
            result += digits + String(repeating: "0", count: exponent + 1 - digits.count) + ".0"
        }
        return result
    }

    /// Splits a finite nonzero double into sign, significant digits (no leading/trailing zeros) and the decimal
    /// exponent of the first digit, from Swift's shortest round-trip description.
    private static func decimalDigits(_ value: Double) -> (Bool, String, Int) {
        var text = String(value.magnitude)
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(text[text.index(after: e)...])!
            text = String(text[..<e])
        }
        var integerPart = text
        var fractionPart = ""
        if let dot = text.firstIndex(of: ".") {
            integerPart = String(text[..<dot])
            fractionPart = String(text[text.index(after: dot)...])
        }
        var digits = integerPart + fractionPart
        var pointPosition = integerPart.count + exponent  // digits before the decimal point
        while digits.first == "0" {
            digits.removeFirst()
            pointPosition -= 1
        }
        while digits.last == "0" { digits.removeLast() }
        return (value.sign == .minus, digits, pointPosition - 1)
    }
}
