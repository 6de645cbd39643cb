import Foundation

/// Python's operators on template values: arithmetic with `bool` as an integer, `/` always producing a float,
/// floor division and modulo rounding toward negative infinity, `==` across numeric types, ordering only between
/// comparable types. Integers are 64-bit here, so an overflow is an error rather than a big integer.
enum PythonOperators {
    private enum Number {
        case int(Int)
        case double(Double)

        var double: Double {
            switch self {
            case .int(let value): return Double(value)
            case .double(let value): return value
            }
        }
    }

    private static func number(_ value: TemplateValue) -> Number? {
        switch value {
        case .bool(let flag): return .int(flag ? 1 : 0)
        case .int(let value): return .int(value)
        case .double(let value): return .double(value)
        default: return nil
        }
    }

    private static func unsupported(_ op: String, _ lhs: TemplateValue, _ rhs: TemplateValue) -> TemplateFailure {
        TemplateFailure("unsupported operand type(s) for \(op): '\(lhs.typeName)' and '\(rhs.typeName)'")
    }

    private static func checked(_ result: (partialValue: Int, overflow: Bool)) throws -> TemplateValue {
        if result.overflow { throw TemplateFailure("integer overflow") }
        return .int(result.partialValue)
    }

    static func apply(_ op: TemplateBinaryOperator, _ lhs: TemplateValue, _ rhs: TemplateValue) throws -> TemplateValue {
        switch op {
        case .add: return try add(lhs, rhs)
        case .subtract: return try subtract(lhs, rhs)
        case .multiply: return try multiply(lhs, rhs)
        case .divide: return try divide(lhs, rhs)
        case .floorDivide: return try floorDivide(lhs, rhs)
        case .modulo: return try modulo(lhs, rhs)
        case .power: return try power(lhs, rhs)
        }
    }

    static func add(_ lhs: TemplateValue, _ rhs: TemplateValue) throws -> TemplateValue {
        switch (lhs, rhs) {
        case (.string(let a), .string(let b)): return .string(a + b)
        case (.array(let a), .array(let b)): return .array(a + b)
        case (.string, _): throw TemplateFailure("can only concatenate str (not \"\(rhs.typeName)\") to str")
        case (.array, _): throw TemplateFailure("can only concatenate list (not \"\(rhs.typeName)\") to list")
        default: break
        }
        switch (number(lhs), number(rhs)) {
        case (.int(let a), .int(let b)): return try checked(a.addingReportingOverflow(b))
        case (let a?, let b?): return .double(a.double + b.double)
        default: throw unsupported("+", lhs, rhs)
        }
    }

    static func subtract(_ lhs: TemplateValue, _ rhs: TemplateValue) throws -> TemplateValue {
        switch (number(lhs), number(rhs)) {
        case (.int(let a), .int(let b)): return try checked(a.subtractingReportingOverflow(b))
        case (let a?, let b?): return .double(a.double - b.double)
        default: throw unsupported("-", lhs, rhs)
        }
    }

    static func multiply(_ lhs: TemplateValue, _ rhs: TemplateValue) throws -> TemplateValue {
        func repeated(_ count: Number?, unit: Int) throws -> Int? {
            guard case .int(let times) = count else { return nil }
            try PythonText.checkSize(max(0, times), unit: unit)
            return max(0, times)
        }
        switch (lhs, rhs) {
        case (.string(let text), _):
            guard let times = try repeated(number(rhs), unit: text.unicodeScalars.count) else { break }
            return .string(PythonText.repeated(text, times))
        case (_, .string(let text)):
            guard let times = try repeated(number(lhs), unit: text.unicodeScalars.count) else { break }
            return .string(PythonText.repeated(text, times))
        case (.array(let items), _):
            guard let times = try repeated(number(rhs), unit: items.count) else { break }
            return .array(Array(repeating: items, count: times).flatMap { $0 })
        case (_, .array(let items)):
            guard let times = try repeated(number(lhs), unit: items.count) else { break }
            return .array(Array(repeating: items, count: times).flatMap { $0 })
        default:
            switch (number(lhs), number(rhs)) {
            case (.int(let a), .int(let b)): return try checked(a.multipliedReportingOverflow(by: b))
            case (let a?, let b?): return .double(a.double * b.double)
            default: break
            }
        }
        throw unsupported("*", lhs, rhs)
    }

    static func divide(_ lhs: TemplateValue, _ rhs: TemplateValue) throws -> TemplateValue {
        guard let a = number(lhs), let b = number(rhs) else { throw unsupported("/", lhs, rhs) }
        if b.double == 0 { throw TemplateFailure("division by zero") }
        return .double(a.double / b.double)
    }

    static func floorDivide(_ lhs: TemplateValue, _ rhs: TemplateValue) throws -> TemplateValue {
        switch (number(lhs), number(rhs)) {
        case (.int(let a), .int(let b)):
            if b == 0 { throw TemplateFailure("integer division or modulo by zero") }
            if a == Int.min && b == -1 { throw TemplateFailure("integer overflow") }
            let quotient = a / b
            return .int((a % b != 0 && (a < 0) != (b < 0)) ? quotient - 1 : quotient)
        case (let a?, let b?):
            if b.double == 0 { throw TemplateFailure("float floor division by zero") }
            return .double((a.double / b.double).rounded(.down))
        default:
            throw unsupported("//", lhs, rhs)
        }
    }

    static func modulo(_ lhs: TemplateValue, _ rhs: TemplateValue) throws -> TemplateValue {
        if case .string(let format) = lhs { return .string(try PythonFormat.percent(format, rhs)) }
        switch (number(lhs), number(rhs)) {
        case (.int(let a), .int(let b)):
            if b == 0 { throw TemplateFailure("integer division or modulo by zero") }
            if b == -1 { return .int(0) }
            let remainder = a % b
            return .int(remainder != 0 && (remainder < 0) != (b < 0) ? remainder + b : remainder)
        case (let a?, let b?):
            if b.double == 0 { throw TemplateFailure("float modulo") }
            var remainder = a.double.truncatingRemainder(dividingBy: b.double)
            if remainder != 0 && (remainder < 0) != (b.double < 0) { remainder += b.double }
            return .double(remainder)
        default:
            throw unsupported("%", lhs, rhs)
        }
    }

    static func power(_ lhs: TemplateValue, _ rhs: TemplateValue) throws -> TemplateValue {
        switch (number(lhs), number(rhs)) {
        case (.int(let base), .int(let exponent)) where exponent >= 0:
            var result = 1
            var factor = base
            var remaining = exponent
            while remaining > 0 {
                if remaining & 1 == 1 {
                    let product = result.multipliedReportingOverflow(by: factor)
                    if product.overflow { throw TemplateFailure("integer overflow") }
                    result = product.partialValue
                }
                remaining >>= 1
                if remaining > 0 {
                    let square = factor.multipliedReportingOverflow(by: factor)
                    if square.overflow { throw TemplateFailure("integer overflow") }
                    factor = square.partialValue
                }
            }
            return .int(result)
        case (let a?, let b?):
            if a.double == 0 && b.double < 0 { throw TemplateFailure("0.0 cannot be raised to a negative power") }
            let result = pow(a.double, b.double)
            if result.isNaN && !a.double.isNaN && !b.double.isNaN {
                throw TemplateFailure("negative number cannot be raised to a fractional power")
            }
            return .double(result)
        default:
            throw unsupported("** or pow()", lhs, rhs)
        }
    }

    static func negate(_ value: TemplateValue) throws -> TemplateValue {
        switch number(value) {
        case .int(let a)?: return try checked((0).subtractingReportingOverflow(a))
        case .double(let a)?: return .double(-a)
        case nil: throw TemplateFailure("bad operand type for unary -: '\(value.typeName)'")
        }
    }

    static func plus(_ value: TemplateValue) throws -> TemplateValue {
        switch number(value) {
        case .int(let a)?: return .int(a)
        case .double(let a)?: return .double(a)
        case nil: throw TemplateFailure("bad operand type for unary +: '\(value.typeName)'")
        }
    }

    // MARK: - TemplateComparison

    /// Python `==`.
    static func equals(_ lhs: TemplateValue, _ rhs: TemplateValue) -> Bool {
        if let a = number(lhs), let b = number(rhs) {
            if case .int(let x) = a, case .int(let y) = b { return x == y }
            return a.double == b.double
        }
        switch (lhs, rhs) {
        case (.array(let a), .array(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { equals($0, $1) }
        case (.dictionary(let a), .dictionary(let b)):
            return a.count == b.count && a.pairs.allSatisfy { pair in b[pair.key].map { equals(pair.value, $0) } ?? false }
        default:
            return lhs == rhs
        }
    }

    /// Python ordering: negative, zero or positive, or an error for types Python cannot order.
    static func compare(_ lhs: TemplateValue, _ rhs: TemplateValue, op: String = "<") throws -> Int {
        if let a = number(lhs), let b = number(rhs) {
            if case .int(let x) = a, case .int(let y) = b { return x < y ? -1 : x > y ? 1 : 0 }
            return a.double < b.double ? -1 : a.double > b.double ? 1 : 0
        }
        switch (lhs, rhs) {
        case (.string(let a), .string(let b)):
            if a.unicodeScalars.elementsEqual(b.unicodeScalars) { return 0 }
            return PythonText.less(a, b) ? -1 : 1
        case (.array(let a), .array(let b)):
            for (x, y) in zip(a, b) where !equals(x, y) { return try compare(x, y, op: op) }
            return a.count < b.count ? -1 : a.count > b.count ? 1 : 0
        default:
            throw TemplateFailure(
                "'\(op)' not supported between instances of '\(lhs.typeName)' and '\(rhs.typeName)'")
        }
    }

    /// Python `item in container`.
    static func contains(_ container: TemplateValue, _ item: TemplateValue) throws -> Bool {
        switch container {
        case .undefined:
            return false
        case .string(let text):
            guard case .string(let needle) = item else {
                throw TemplateFailure("'in <string>' requires string as left operand, not \(item.typeName)")
            }
            return needle.isEmpty || PythonText.find(text, needle) >= 0
        case .array(let items):
            return items.contains { equals($0, item) }
        case .dictionary(let dictionary):
            switch item {
            case .string(let key): return dictionary[key] != nil
            case .array, .dictionary: throw TemplateFailure("unhashable type: '\(item.typeName)'")
            default: return false
            }
        default:
            throw TemplateFailure("argument of type '\(container.typeName)' is not iterable")
        }
    }
}
