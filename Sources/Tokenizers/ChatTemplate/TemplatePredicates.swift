/// Jinja2's builtin tests (`x is defined`, `n is divisibleby 3`, ...), following `jinja2/tests.py`.
extension TemplateInterpreter {
    mutating func applyTest(_ name: String, _ value: TemplateValue, _ arguments: TemplateCallArguments) throws -> Bool {
        func operand() throws -> TemplateValue {
            try arguments.bind(["other"], function: name, required: 1)[0]!
        }
        func noArguments() throws { _ = try arguments.bind([], function: name) }
        func ordered(_ accept: (Int) -> Bool) throws -> Bool {
            let other = try operand()
            if case .undefined = value { throw TemplateFailure("undefined value in comparison") }
            if case .undefined = other { throw TemplateFailure("undefined value in comparison") }
            return accept(try PythonOperators.compare(value, other))
        }
        switch name {
        case "defined": try noArguments(); return value.isDefined
        case "undefined": try noArguments(); return !value.isDefined
        case "none": try noArguments(); return value == .none
        case "boolean":
            try noArguments()
            if case .bool = value { return true }
            return false
        case "true": try noArguments(); return value == .bool(true)
        case "false": try noArguments(); return value == .bool(false)
        case "integer":
            try noArguments()
            if case .int = value { return true }
            return false
        case "float":
            try noArguments()
            if case .double = value { return true }
            return false
        case "number":
            try noArguments()
            switch value {
            case .int, .double, .bool: return true
            default: return false
            }
        case "string":
            try noArguments()
            if case .string = value { return true }
            return false
        case "mapping":
            try noArguments()
            if case .dictionary = value { return true }
            return false
        case "iterable", "sequence":
            try noArguments()
            switch value {
            case .undefined, .string, .array, .dictionary: return true
            case .object(let object):
                if case .iterator = object.kind { return name == "iterable" }
                return false
            default: return false
            }
        case "callable":
            try noArguments()
            if case .undefined = value { return true }  // Jinja's Undefined defines __call__ (to fail loudly)
            guard case .object(let object) = value else { return false }
            switch object.kind {
            case .builtin, .method, .macro: return true
            default: return false
            }
        case "sameas":
            // Python identity: only singletons and CPython's cached small integers are reliably identical.
            let other = try operand()
            switch (value, other) {
            case (.none, .none): return true
            case (.bool(let a), .bool(let b)): return a == b
            case (.int(let a), .int(let b)): return a == b && (-5...256).contains(a)
            case (.object(let a), .object(let b)): return a == b
            default: return false
            }
        case "escaped":
            try noArguments()
            return false
        case "odd", "even":
            try noArguments()
            let remainder = try PythonOperators.modulo(value, .int(2))
            return PythonOperators.equals(remainder, .int(name == "odd" ? 1 : 0))
        case "divisibleby":
            let divisor = try arguments.bind(["num"], function: name, required: 1)[0]!
            return PythonOperators.equals(try PythonOperators.modulo(value, divisor), .int(0))
        case "eq", "equalto", "==": return PythonOperators.equals(value, try operand())
        case "ne", "!=": return !PythonOperators.equals(value, try operand())
        case "lt", "lessthan", "<": return try ordered { $0 < 0 }
        case "le", "<=": return try ordered { $0 <= 0 }
        case "gt", "greaterthan", ">": return try ordered { $0 > 0 }
        case "ge", ">=": return try ordered { $0 >= 0 }
        case "in":
            let container = try arguments.bind(["seq"], function: name, required: 1)[0]!
            return try contains(container, value)
        case "lower", "upper":
            try noArguments()
            let text = display(value)
            let cased = text.unicodeScalars.filter(PythonText.isCased)
            let wanted: Unicode.GeneralCategory = name == "upper" ? .uppercaseLetter : .lowercaseLetter
            return !cased.isEmpty && cased.allSatisfy { $0.properties.generalCategory == wanted }
        case "filter":
            try noArguments()
            guard case .string(let filterName) = value else { return false }
            return TemplateValidator.knownFilters.contains(filterName)
                && !TemplateInterpreter.unsupportedFilters.contains(filterName)
        case "test":
            try noArguments()
            guard case .string(let testName) = value else { return false }
            return TemplateValidator.knownTests.contains(testName)
        default:
            throw TemplateFailure("unknown test '\(name)'")
        }
    }
}
