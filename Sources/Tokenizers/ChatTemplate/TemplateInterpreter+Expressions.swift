/// Evaluated call arguments, bound to parameter names the way Python binds them.
struct TemplateCallArguments {
    var positional: [TemplateValue] = []
    var keyword: [(String, TemplateValue)] = []

    /// Values for `parameters` in order (nil where not given); errors for extra, unknown or duplicate arguments and
    /// for missing ones among the first `required`.
    func bind(_ parameters: [String], function: String, required: Int = 0) throws -> [TemplateValue?] {
        if positional.count > parameters.count {
            throw TemplateFailure("\(function)() takes at most \(parameters.count) argument(s) "
                                  + "(\(positional.count) given)")
        }
        var bound: [TemplateValue?] = positional.map { $0 } + Array(repeating: nil, count: parameters.count - positional.count)
        for (name, value) in keyword {
            guard let index = parameters.firstIndex(of: name) else {
                throw TemplateFailure("\(function)() got an unexpected keyword argument '\(name)'")
            }
            if bound[index] != nil { throw TemplateFailure("\(function)() got multiple values for argument '\(name)'") }
            bound[index] = value
        }
        for index in 0..<required where bound[index] == nil {
            throw TemplateFailure("\(function)() missing required argument '\(parameters[index])'")
        }
        return bound
    }
}

extension TemplateInterpreter {
    /// Evaluates an expression; a failure inside is reported at the innermost expression that failed.
    mutating func evaluate(_ expression: TemplateExpression) throws -> TemplateValue {
        do {
            return try evaluateKind(expression)
        } catch let failure as TemplateFailure {
            throw positioned(failure, at: expression.position)
        }
    }

    mutating func evaluateArguments(_ arguments: TemplateArguments) throws -> TemplateCallArguments {
        TemplateCallArguments(positional: try arguments.positional.map { try evaluate($0) },
                      keyword: try arguments.keyword.map { ($0.name, try evaluate($0.value)) })
    }

    /// How an expression reads in an error message: `messages[0].content`.
    func describe(_ expression: TemplateExpression) -> String {
        switch expression.kind {
        case .name(let name): return name
        case .attribute(let base, let name): return describe(base) + "." + name
        case .item(let base, let key):
            if case .literal(let value) = key.kind { return describe(base) + "[" + value.pythonRepr + "]" }
            return describe(base) + "[...]"
        case .literal(let value): return value.pythonRepr
        case .call(let callee, _): return describe(callee) + "(...)"
        case .filter(let base, let filter): return describe(base) + "|" + filter.name
        default: return "expression"
        }
    }

    func undefinedFailure(_ expression: TemplateExpression) -> TemplateFailure {
        TemplateFailure("'\(describe(expression))' is undefined")
    }

    /// Evaluates an operand that Jinja's `Undefined` refuses to take part in (arithmetic, attributes, ordering).
    private mutating func defined(_ expression: TemplateExpression) throws -> TemplateValue {
        let value = try evaluate(expression)
        if case .undefined = value { throw positioned(undefinedFailure(expression), at: expression.position) }
        return value
    }

    private mutating func evaluateKind(_ expression: TemplateExpression) throws -> TemplateValue {
        switch expression.kind {
        case .literal(let value):
            return value
        case .name(let name):
            return lookup(name)
        case .list(let items), .tuple(let items):
            return .array(try items.map { try evaluate($0) })
        case .dictionary(let entries):
            var dictionary = TemplateDictionary()
            for entry in entries {
                guard case .string(let key) = try evaluate(entry.key) else {
                    throw TemplateFailure("dictionary keys must be strings")
                }
                dictionary[key] = try evaluate(entry.value)
            }
            return .dictionary(dictionary)
        case .attribute(let base, let name):
            // Evaluate first: a non-mutating call would read `self` (its namespaces) before the operand runs.
            let object = try defined(base)
            return attribute(object, name)
        case .item(let base, let key):
            let container = try defined(base)
            let key = try evaluate(key)
            return item(container, key)
        case .slice(let base, let start, let stop, let step):
            let container = try defined(base)
            func index(_ part: TemplateExpression?) throws -> Int? {
                guard let part else { return nil }
                switch try evaluate(part) {
                case .none: return nil
                case .int(let value): return value
                case .bool(let flag): return flag ? 1 : 0
                default: throw TemplateFailure("slice indices must be integers or None")
                }
            }
            return try slice(container, start: index(start), stop: index(stop), step: index(step))
        case .call(let callee, let argumentExpressions):
            let function = try evaluate(callee)
            if case .undefined = function {
                if case .attribute(let base, let name) = callee.kind {
                    let receiver = try evaluate(base)
                    throw TemplateFailure("'\(receiver.typeName)' object has no attribute '\(name)'")
                }
                throw undefinedFailure(callee)
            }
            return try call(function, try evaluateArguments(argumentExpressions))
        case .filter(let base, let filter):
            let value = try evaluate(base)
            // Jinja's Undefined refuses int()/float() conversion and attribute lookup outright.
            if case .undefined = value, TemplateInterpreter.filtersRefusingUndefined.contains(filter.name) {
                throw undefinedFailure(base)
            }
            return try applyFilter(filter, to: value)
        case .test(let base, let name, let argumentExpressions, let negated):
            let value = try evaluate(base)
            let result = try applyTest(name, value, try evaluateArguments(argumentExpressions))
            return .bool(result != negated)
        case .negate(let operand):
            return try PythonOperators.negate(try defined(operand))
        case .plus(let operand):
            return try PythonOperators.plus(try defined(operand))
        case .binary(let op, let left, let right):
            let lhs = try defined(left)
            // `'%s' % x` is str's own operator, which takes any right operand, undefined included.
            if op == .modulo, case .string = lhs { return try PythonOperators.apply(op, lhs, try evaluate(right)) }
            let rhs = try defined(right)
            return try PythonOperators.apply(op, lhs, rhs)
        case .compare(let left, let comparisons):
            var lhs = try evaluate(left)
            var lhsExpression = left
            for comparison in comparisons {
                let rhs = try evaluate(comparison.operand)
                let holds = try compare(comparison.op, lhs, rhs, lhsExpression, comparison.operand)
                if !holds { return .bool(false) }
                lhs = rhs
                lhsExpression = comparison.operand
            }
            return .bool(true)
        case .and(let left, let right):
            let lhs = try evaluate(left)
            return lhs.isTruthy ? try evaluate(right) : lhs
        case .or(let left, let right):
            let lhs = try evaluate(left)
            return lhs.isTruthy ? lhs : try evaluate(right)
        case .not(let operand):
            return .bool(!(try evaluate(operand)).isTruthy)
        case .concat(let items):
            var text = ""
            for item in items {
                let value = try evaluate(item)
                text += display(value)
            }
            return .string(text)
        case .conditional(let test, let then, let otherwise):
            if try evaluate(test).isTruthy { return try evaluate(then) }
            return try otherwise.map { try evaluate($0) } ?? .undefined
        }
    }

    private func compare(_ op: TemplateCompareOperator, _ lhs: TemplateValue, _ rhs: TemplateValue,
                         _ lhsExpression: TemplateExpression, _ rhsExpression: TemplateExpression) throws -> Bool {
        switch op {
        case .equal: return PythonOperators.equals(lhs, rhs)
        case .notEqual: return !PythonOperators.equals(lhs, rhs)
        case .contains: return try contains(rhs, lhs)
        case .notContains: return !(try contains(rhs, lhs))
        case .less, .lessOrEqual, .greater, .greaterOrEqual:
            if case .undefined = lhs { throw undefinedFailure(lhsExpression) }
            if case .undefined = rhs { throw undefinedFailure(rhsExpression) }
            let order = try PythonOperators.compare(lhs, rhs, op: op.rawValue)
            switch op {
            case .less: return order < 0
            case .lessOrEqual: return order <= 0
            case .greater: return order > 0
            default: return order >= 0
            }
        }
    }

    /// `item in container`, with namespaces answering for their attributes.
    func contains(_ container: TemplateValue, _ item: TemplateValue) throws -> Bool {
        if case .object(let object) = container, case .namespace(let id) = object.kind {
            guard case .string(let key) = item else { return false }
            return namespaces[id][key] != nil
        }
        if case .object(let object) = container, case .iterator(let items, _) = object.kind {
            return items.contains { PythonOperators.equals($0, item) }
        }
        return try PythonOperators.contains(container, item)
    }

    // MARK: - Calls

    mutating func call(_ function: TemplateValue, _ arguments: TemplateCallArguments) throws -> TemplateValue {
        guard case .object(let object) = function else {
            throw TemplateFailure("'\(function.typeName)' object is not callable")
        }
        switch object.kind {
        case .builtin(let name):
            return try callGlobal(name, arguments)
        case .method(let receiver, let name):
            return try callMethod(receiver, name, arguments)
        case .macro(let id, _):
            return .string(try invokeMacro(id, arguments))
        case .unsafeMethod(let typeName, let name):
            throw TemplateFailure("access to attribute '\(name)' of '\(typeName)' object is unsafe.")
        case .namespace, .loop, .iterator:
            throw TemplateFailure("'\(object.typeName)' object is not callable")
        }
    }

    // MARK: - Attribute and item access (Jinja's sandboxed getattr/getitem)

    static let dictionaryMethods: Set<String> = ["items", "keys", "values", "get", "copy"]
    static let unsafeDictionaryMethods: Set<String> = ["update", "pop", "popitem", "setdefault", "clear"]
    static let listMethods: Set<String> = ["index", "count", "copy"]
    static let unsafeListMethods: Set<String> = ["append", "extend", "insert", "pop", "remove", "reverse", "sort",
                                                 "clear"]

    /// `value.name`: Python attribute lookup first (methods), then a dictionary key, else undefined. Methods that
    /// would mutate a list or dictionary are refused, as transformers' immutable sandbox refuses them.
    func attribute(_ value: TemplateValue, _ name: String) -> TemplateValue {
        func method() -> TemplateValue { .object(TemplateObject(.method(receiver: value, name: name))) }
        func unsafe() -> TemplateValue { .object(TemplateObject(.unsafeMethod(typeName: value.typeName, name: name))) }
        switch value {
        case .dictionary(let dictionary):
            if TemplateInterpreter.dictionaryMethods.contains(name) { return method() }
            if TemplateInterpreter.unsafeDictionaryMethods.contains(name) { return unsafe() }
            return dictionary[name] ?? .undefined
        case .string:
            return TemplateInterpreter.stringMethods.contains(name) ? method() : .undefined
        case .array:
            if TemplateInterpreter.listMethods.contains(name) { return method() }
            if TemplateInterpreter.unsafeListMethods.contains(name) { return unsafe() }
            return .undefined
        case .object(let object):
            switch object.kind {
            case .namespace(let id): return namespaces[id][name] ?? .undefined
            case .loop(let state): return loopAttribute(state, name, value)
            default: return .undefined
            }
        default:
            return .undefined
        }
    }

    private func loopAttribute(_ state: TemplateLoopState, _ name: String, _ loop: TemplateValue) -> TemplateValue {
        switch name {
        case "index": return .int(state.index0 + 1)
        case "index0": return .int(state.index0)
        case "revindex": return .int(state.length - state.index0)
        case "revindex0": return .int(state.length - state.index0 - 1)
        case "first": return .bool(state.index0 == 0)
        case "last": return .bool(state.index0 == state.length - 1)
        case "length": return .int(state.length)
        case "previtem": return state.previous
        case "nextitem": return state.next
        case "depth": return .int(state.depth0 + 1)
        case "depth0": return .int(state.depth0)
        case "cycle": return .object(TemplateObject(.method(receiver: loop, name: name)))
        default: return .undefined
        }
    }

    /// `value[key]`: item lookup first, then (for a string key) attribute lookup, else undefined.
    func item(_ value: TemplateValue, _ key: TemplateValue) -> TemplateValue {
        var position: Int?
        switch key {
        case .int(let index): position = index
        case .bool(let flag): position = flag ? 1 : 0
        default: position = nil
        }
        switch value {
        case .dictionary(let dictionary):
            if case .string(let name) = key { return dictionary[name] ?? attribute(value, name) }
            return .undefined
        case .array(let items):
            if let position {
                let index = position < 0 ? position + items.count : position
                return items.indices.contains(index) ? items[index] : .undefined
            }
        case .string(let text):
            if let position {
                let scalars = Array(text.unicodeScalars)
                let index = position < 0 ? position + scalars.count : position
                return scalars.indices.contains(index) ? .string(String(scalars[index])) : .undefined
            }
        default:
            break
        }
        if case .string(let name) = key { return attribute(value, name) }
        return .undefined
    }

    /// Python slicing of a list or string. Jinja compiles slices to a plain Python subscript (not its forgiving
    /// getitem), so slicing anything else is an error.
    func slice(_ value: TemplateValue, start: Int?, stop: Int?, step: Int?) throws -> TemplateValue {
        let step = step ?? 1
        if step == 0 { throw TemplateFailure("slice step cannot be zero") }
        func indices(_ length: Int) -> [Int] {
            func clamp(_ bound: Int?, _ defaultValue: Int) -> Int {
                guard var bound else { return defaultValue }
                if bound < 0 {
                    bound += length
                    if bound < 0 { bound = step < 0 ? -1 : 0 }
                } else if bound >= length {
                    bound = step < 0 ? length - 1 : length
                }
                return bound
            }
            let first = clamp(start, step < 0 ? length - 1 : 0)
            let last = clamp(stop, step < 0 ? -1 : length)
            return Array(stride(from: first, to: last, by: step))
        }
        switch value {
        case .array(let items):
            return .array(indices(items.count).map { items[$0] })
        case .string(let text):
            let scalars = Array(text.unicodeScalars)
            return .string(PythonText.string(indices(scalars.count).map { scalars[$0] }))
        case .dictionary:
            throw TemplateFailure("unhashable type: 'slice'")
        default:
            throw TemplateFailure("'\(value.typeName)' object is not subscriptable")
        }
    }

    /// What a `for` loop (and `list`, `join`, unpacking...) walks: list items, dictionary keys, string characters;
    /// undefined is empty.
    func iterate(_ value: TemplateValue) throws -> [TemplateValue] {
        switch value {
        case .undefined: return []
        case .array(let items): return items
        case .dictionary(let dictionary): return dictionary.keys.map { .string($0) }
        case .string(let text): return text.unicodeScalars.map { .string(String($0)) }
        case .object(let object):
            if case .iterator(let items, _) = object.kind { return items }
            throw TemplateFailure("'\(value.typeName)' object is not iterable")
        default: throw TemplateFailure("'\(value.typeName)' object is not iterable")
        }
    }
}
