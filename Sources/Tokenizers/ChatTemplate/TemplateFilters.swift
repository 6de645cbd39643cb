import Foundation

/// Jinja2's builtin filters, each following the Python implementation in `jinja2/filters.py` (argument names and
/// defaults included, since templates pass them by keyword), plus transformers' `tojson`.
extension TemplateInterpreter {
    /// Filters Jinja has that chat templates do not use; reaching one is an error rather than a guess.
    static let unsupportedFilters: Set<String> = [
        "filesizeformat", "groupby", "pprint", "random", "slice", "striptags", "truncate", "urlencode", "urlize",
        "wordwrap", "xmlattr",
    ]

    /// Filters that fail on an undefined value instead of treating it as empty.
    static let filtersRefusingUndefined: Set<String> = ["int", "float", "attr"]

    mutating func applyFilter(_ filter: TemplateFilterCall, to value: TemplateValue) throws -> TemplateValue {
        let arguments = try evaluateArguments(filter.arguments)
        do {
            return try callFilter(filter.name, value, arguments)
        } catch {
            throw positioned(error, at: filter.position)
        }
    }

    mutating func callFilter(_ name: String, _ value: TemplateValue, _ arguments: TemplateCallArguments) throws
        -> TemplateValue
    {
        switch name {
        case "abs":
            _ = try arguments.bind([], function: name)
            switch value {
            case .int(let number):
                if number == Int.min { throw TemplateFailure("integer overflow") }
                return .int(abs(number))
            case .bool(let flag): return .int(flag ? 1 : 0)
            case .double(let number): return .double(abs(number))
            default: throw TemplateFailure("bad operand type for abs(): '\(value.typeName)'")
            }
        case "attr":
            let bound = try arguments.bind(["name"], function: name, required: 1)
            return attribute(value, bound[0]!.pythonString)
        case "batch":
            let bound = try arguments.bind(["linecount", "fill_with"], function: name, required: 1)
            guard case .int(let size) = bound[0]!, size > 0 else { throw TemplateFailure("batch size must be positive") }
            var batches: [TemplateValue] = []
            var current: [TemplateValue] = []
            for item in try iterate(value) {
                if current.count == size {
                    batches.append(.array(current))
                    current = []
                }
                current.append(item)
            }
            if !current.isEmpty {
                if let fill = bound[1], fill != .none, current.count < size {
                    current += Array(repeating: fill, count: size - current.count)
                }
                batches.append(.array(current))
            }
            return lazy(batches, "generator")
        case "capitalize":
            _ = try arguments.bind([], function: name)
            return .string(PythonText.capitalize(display(value)))
        case "center":
            let bound = try arguments.bind(["width"], function: name)
            return try callMethod(.string(display(value)), "center",
                                  TemplateCallArguments(positional: [bound[0] ?? .int(80)]))
        case "count", "length":
            _ = try arguments.bind([], function: name)
            return .int(try length(value))
        case "d", "default":
            let bound = try arguments.bind(["default_value", "boolean"], function: name)
            let useDefault = (bound[1]?.isTruthy ?? false) ? !value.isTruthy : !value.isDefined
            return useDefault ? (bound[0] ?? .string("")) : value
        case "dictsort":
            let bound = try arguments.bind(["case_sensitive", "by", "reverse"], function: name)
            guard case .dictionary(let dictionary) = value else {
                throw TemplateFailure("dictsort() needs a mapping, not \(value.typeName)")
            }
            let byValue: Bool
            switch bound[1] ?? .string("key") {
            case .string("key"): byValue = false
            case .string("value"): byValue = true
            default: throw TemplateFailure("You can only sort by either \"key\" or \"value\"")
            }
            let caseSensitive = bound[0]?.isTruthy ?? false
            let pairs: [TemplateValue] = dictionary.pairs.map { .array([.string($0.key), $0.value]) }
            return .array(try stableSorted(pairs, reverse: bound[2]?.isTruthy ?? false) { pair in
                guard case .array(let parts) = pair else { return pair }
                let key = parts[byValue ? 1 : 0]
                return caseSensitive ? key : ignoringCase(key)
            })
        case "e", "escape", "forceescape":
            _ = try arguments.bind([], function: name)
            return .string(htmlEscape(display(value)))
        case "first":
            _ = try arguments.bind([], function: name)
            return try iterate(value).first ?? .undefined
        case "last":
            _ = try arguments.bind([], function: name)
            if case .object(let object) = value, case .iterator = object.kind {
                throw TemplateFailure("'\(value.typeName)' object is not reversible")
            }
            return try iterate(value).last ?? .undefined
        case "float":
            let bound = try arguments.bind(["default"], function: name)
            return TemplateInterpreter.pythonFloat(value).map { .double($0) } ?? (bound[0] ?? .double(0))
        case "int":
            let bound = try arguments.bind(["default", "base"], function: name)
            let base = try integerArgument(bound[1], default: 10, name)
            return try TemplateInterpreter.pythonInt(value, base: base).map { .int($0) } ?? (bound[0] ?? .int(0))
        case "format":
            if !arguments.positional.isEmpty && !arguments.keyword.isEmpty {
                throw TemplateFailure("can't handle positional and keyword arguments at the same time")
            }
            let values: TemplateValue = arguments.keyword.isEmpty
                ? .array(arguments.positional) : .dictionary(TemplateDictionary(arguments.keyword))
            return .string(try PythonFormat.percent(display(value), values))
        case "indent":
            let bound = try arguments.bind(["width", "first", "blank"], function: name)
            // Jinja appends "\n" to the value itself before splitting lines, so only strings work.
            guard case .string(let text) = value else {
                throw TemplateFailure("indent() needs a string, not \(value.typeName)")
            }
            let indentation: String
            switch bound[0] ?? .int(4) {
            case .string(let text): indentation = text
            case let width:
                let count = max(0, try integerArgument(width, default: 4, name))
                try PythonText.checkSize(count)
                indentation = String(repeating: " ", count: count)
            }
            return .string(indent(text, indentation, first: bound[1]?.isTruthy ?? false,
                                  blank: bound[2]?.isTruthy ?? false))
        case "items":
            _ = try arguments.bind([], function: name)
            switch value {
            case .undefined: return lazy([], "generator")
            case .dictionary(let dictionary): return lazy(dictionary.pairs.map { .array([.string($0.key), $0.value]) }, "generator")
            default: throw TemplateFailure("Can only get item pairs from a mapping.")
            }
        case "join":
            let bound = try arguments.bind(["d", "attribute"], function: name)
            var items = try iterate(value)
            if let attribute = bound[1], attribute != .none {
                items = try items.map { try attributePath($0, attribute, default: nil) }
            }
            return .string(items.map(display).joined(separator: bound[0].map(display) ?? ""))
        case "list":
            _ = try arguments.bind([], function: name)
            return .array(try iterate(value))
        case "lower":
            _ = try arguments.bind([], function: name)
            return .string(PythonText.lower(display(value)))
        case "upper":
            _ = try arguments.bind([], function: name)
            return .string(PythonText.upper(display(value)))
        case "title":
            _ = try arguments.bind([], function: name)
            return .string(jinjaTitle(display(value)))
        case "map":
            return lazy(try map(value, arguments), "generator")
        case "max", "min":
            let bound = try arguments.bind(["case_sensitive", "attribute"], function: name)
            let items = try iterate(value)
            guard var best = items.first else { return .undefined }
            let caseSensitive = bound[0]?.isTruthy ?? false
            func key(_ item: TemplateValue) throws -> TemplateValue {
                var key = item
                if let attribute = bound[1], attribute != .none { key = try attributePath(item, attribute, default: nil) }
                return caseSensitive ? key : ignoringCase(key)
            }
            var bestKey = try key(best)
            for item in items.dropFirst() {
                let itemKey = try key(item)
                let order = try PythonOperators.compare(itemKey, bestKey, op: name == "max" ? ">" : "<")
                if name == "max" ? order > 0 : order < 0 {
                    best = item
                    bestKey = itemKey
                }
            }
            return best
        case "reject", "select", "rejectattr", "selectattr":
            return lazy(try select(value, arguments, byAttribute: name.hasSuffix("attr"), keep: name.hasPrefix("select")),
                        "generator")
        case "replace":
            let bound = try arguments.bind(["old", "new", "count"], function: name, required: 2)
            let count = try integerArgument(bound[2], default: -1, name)
            return .string(PythonText.replace(display(value), display(bound[0]!), display(bound[1]!), count: count))
        case "reverse":
            _ = try arguments.bind([], function: name)
            if case .string(let text) = value { return .string(PythonText.string(text.unicodeScalars.reversed())) }
            return lazy(try iterate(value).reversed(), "list_reverseiterator")
        case "round":
            let bound = try arguments.bind(["precision", "method"], function: name)
            let precision = try integerArgument(bound[0], default: 0, name)
            let method = bound[1].map(display) ?? "common"
            guard ["common", "ceil", "floor"].contains(method) else {
                throw TemplateFailure("method must be common, ceil or floor")
            }
            return try round(value, precision: precision, method: method)
        case "safe", "string":
            _ = try arguments.bind([], function: name)
            return .string(display(value))
        case "sort":
            let bound = try arguments.bind(["reverse", "case_sensitive", "attribute"], function: name)
            let caseSensitive = bound[1]?.isTruthy ?? false
            let attributes: [TemplateValue]
            switch bound[2] {
            case nil, .none?: attributes = []
            case .string(let text)?: attributes = text.split(separator: ",").map { .string(String($0)) }
            case let other?: attributes = [other]
            }
            return .array(try stableSorted(try iterate(value), reverse: bound[0]?.isTruthy ?? false) { item in
                let keys = try attributes.map { try attributePath(item, $0, default: nil) }
                let key = attributes.isEmpty ? item : keys.count == 1 ? keys[0] : .array(keys)
                if caseSensitive { return key }
                if case .array(let parts) = key, attributes.count > 1 { return .array(parts.map(ignoringCase)) }
                return ignoringCase(key)
            })
        case "sum":
            let bound = try arguments.bind(["attribute", "start"], function: name)
            var total = bound[1] ?? .int(0)
            if case .string = total { throw TemplateFailure("sum() can't sum strings [use ''.join(seq) instead]") }
            for item in try iterate(value) {
                let term = try bound[0].map { try attributePath(item, $0, default: nil) } ?? item
                total = try PythonOperators.add(total, term)
            }
            return total
        case "tojson":
            let bound = try arguments.bind(["ensure_ascii", "indent", "separators", "sort_keys"], function: name)
            var options = TemplateValue.JSONOptions()
            options.ensureASCII = bound[0]?.isTruthy ?? false
            switch bound[1] {
            case nil, .none?: options.indent = nil
            case .string(let text)?: options.indent = text
            case let other?:
                let count = max(0, try integerArgument(other, default: 0, name))
                try PythonText.checkSize(count)
                options.indent = String(repeating: " ", count: count)
            }
            if let separators = bound[2], separators != .none {
                guard case .array(let parts) = separators, parts.count == 2,
                    case .string(let item) = parts[0], case .string(let key) = parts[1]
                else { throw TemplateFailure("separators must be a pair of strings") }
                options.itemSeparator = item
                options.keySeparator = key
            }
            options.sortKeys = bound[3]?.isTruthy ?? false
            return .string(try value.pythonJSON(options))
        case "trim":
            let bound = try arguments.bind(["chars"], function: name)
            let chars: String?
            switch bound[0] {
            case nil, .none?: chars = nil
            case let other?: chars = display(other)
            }
            return .string(PythonText.strip(display(value), chars))
        case "unique":
            let bound = try arguments.bind(["case_sensitive", "attribute"], function: name)
            let caseSensitive = bound[0]?.isTruthy ?? false
            var seen: [TemplateValue] = []
            var kept: [TemplateValue] = []
            for item in try iterate(value) {
                var key = item
                if let attribute = bound[1], attribute != .none { key = try attributePath(item, attribute, default: nil) }
                if !caseSensitive { key = ignoringCase(key) }
                if case .array = key { throw TemplateFailure("unhashable type: 'list'") }
                if case .dictionary = key { throw TemplateFailure("unhashable type: 'dict'") }
                if !seen.contains(where: { PythonOperators.equals($0, key) }) {
                    seen.append(key)
                    kept.append(item)
                }
            }
            return lazy(kept, "generator")
        case "wordcount":
            _ = try arguments.bind([], function: name)
            var count = 0
            var inWord = false
            for scalar in display(value).unicodeScalars {
                let isWord = scalar == "_" || scalar.properties.isAlphabetic || scalar.properties.numericType != nil
                if isWord && !inWord { count += 1 }
                inWord = isWord
            }
            return .int(count)
        default:
            if TemplateInterpreter.unsupportedFilters.contains(name) {
                throw TemplateFailure("filter '\(name)' is not supported")
            }
            throw TemplateFailure("unknown filter '\(name)'")
        }
    }

    // MARK: - Helpers

    /// A Jinja filter result that is a Python generator or iterator, not a list.
    private func lazy(_ items: [TemplateValue], _ typeName: String) -> TemplateValue {
        .object(TemplateObject(.iterator(items, name: typeName)))
    }

    func length(_ value: TemplateValue) throws -> Int {
        switch value {
        case .undefined: return 0
        case .string(let text): return PythonText.length(text)
        case .array(let items): return items.count
        case .dictionary(let dictionary): return dictionary.count
        default: throw TemplateFailure("object of type '\(value.typeName)' has no len()")
        }
    }

    func integerArgument(_ value: TemplateValue?, default defaultValue: Int, _ function: String) throws -> Int {
        switch value {
        case nil, .none?: return defaultValue
        case .int(let number)?: return number
        case .bool(let flag)?: return flag ? 1 : 0
        case let other?: throw TemplateFailure("\(function)(): expected an integer, got \(other.typeName)")
        }
    }

    /// Jinja's `ignore_case`: strings compare lowercased.
    func ignoringCase(_ value: TemplateValue) -> TemplateValue {
        if case .string(let text) = value { return .string(PythonText.lower(text)) }
        return value
    }

    /// Jinja's `make_attrgetter`: `"a.b.0"` walks attributes and indexes; a missing part can fall back to `default`.
    func attributePath(_ item: TemplateValue, _ attribute: TemplateValue, default defaultValue: TemplateValue?) throws
        -> TemplateValue
    {
        var parts: [TemplateValue]
        switch attribute {
        case .string(let path):
            parts = path.split(separator: ".", omittingEmptySubsequences: false).map { part in
                Int(part).map { .int($0) } ?? .string(String(part))
            }
        default:
            parts = [attribute]
        }
        var current = item
        for part in parts {
            current = self.item(current, part)
            if let defaultValue, case .undefined = current { current = defaultValue }
        }
        return current
    }

    /// Python's `sorted(items, key=key, reverse=reverse)`: stable, and equal keys keep their order when reversed.
    func stableSorted(_ items: [TemplateValue], reverse: Bool, key: (TemplateValue) throws -> TemplateValue) throws
        -> [TemplateValue]
    {
        let keyed = try items.enumerated().map { (index: $0.offset, key: try key($0.element), item: $0.element) }
        let sorted = try keyed.sorted { lhs, rhs in
            let order = try PythonOperators.compare(lhs.key, rhs.key)
            if order != 0 { return reverse ? order > 0 : order < 0 }
            return lhs.index < rhs.index
        }
        return sorted.map(\.item)
    }

    private mutating func map(_ value: TemplateValue, _ arguments: TemplateCallArguments) throws -> [TemplateValue] {
        let items = try iterate(value)
        if arguments.positional.isEmpty, let attribute = arguments.keyword.first(where: { $0.0 == "attribute" })?.1 {
            let defaultValue = arguments.keyword.first(where: { $0.0 == "default" })?.1
            if let unexpected = arguments.keyword.first(where: { $0.0 != "attribute" && $0.0 != "default" }) {
                throw TemplateFailure("Unexpected keyword argument '\(unexpected.0)'")
            }
            return try items.map { try attributePath($0, attribute, default: defaultValue) }
        }
        guard let filterName = arguments.positional.first?.stringValue else {
            throw TemplateFailure("map requires a filter argument")
        }
        let rest = TemplateCallArguments(positional: Array(arguments.positional.dropFirst()), keyword: arguments.keyword)
        return try items.map { try callFilter(filterName, $0, rest) }
    }

    private mutating func select(_ value: TemplateValue, _ arguments: TemplateCallArguments, byAttribute: Bool, keep: Bool)
        throws -> [TemplateValue]
    {
        var positional = arguments.positional
        var attribute: TemplateValue?
        if byAttribute {
            guard !positional.isEmpty else { throw TemplateFailure("Missing parameter for attribute name") }
            attribute = positional.removeFirst()
        }
        let testName = positional.first.map(display)
        let testArguments = TemplateCallArguments(positional: Array(positional.dropFirst()), keyword: arguments.keyword)
        guard value.isTruthy else { return [] }
        var kept: [TemplateValue] = []
        for item in try iterate(value) {
            let subject = try attribute.map { try attributePath(item, $0, default: nil) } ?? item
            let passes = try testName.map { try applyTest($0, subject, testArguments) } ?? subject.isTruthy
            if passes == keep { kept.append(item) }
        }
        return kept
    }

    /// Jinja's `indent`: every line after the first gets the indentation; blank lines only with `blank`.
    private func indent(_ text: String, _ indentation: String, first: Bool, blank: Bool) -> String {
        let lines = PythonText.splitLines(text + "\n")
        var result: String
        if blank {
            result = lines.joined(separator: "\n" + indentation)
        } else {
            result = lines.first ?? ""
            let rest = lines.dropFirst()
            if !rest.isEmpty {
                result += "\n" + rest.map { $0.isEmpty ? $0 : indentation + $0 }.joined(separator: "\n")
            }
        }
        return first ? indentation + result : result
    }

    /// Jinja's `title` filter (not Python's `str.title`): words start after `-`, whitespace, `(`, `{`, `[` or `<`;
    /// each word's first character is uppercased and the rest lowercased.
    private func jinjaTitle(_ text: String) -> String {
        func isBoundary(_ scalar: Unicode.Scalar) -> Bool {
            PythonText.isWhitespace(scalar) || "-({[<".unicodeScalars.contains(scalar)
        }
        var result = ""
        var atWordStart = true
        for scalar in text.unicodeScalars {
            if isBoundary(scalar) {
                result.unicodeScalars.append(scalar)
                atWordStart = true
            } else {
                result += atWordStart ? scalar.properties.uppercaseMapping : scalar.properties.lowercaseMapping
                atWordStart = false
            }
        }
        return result
    }

    private func htmlEscape(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&#34;"
            case "'": result += "&#39;"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// Python's `round(value, precision)` (half to even on the exact binary value) or Jinja's ceil/floor variants.
    private func round(_ value: TemplateValue, precision: Int, method: String) throws -> TemplateValue {
        let number: Double
        switch value {
        case .int(let int):
            if method == "common" {
                guard precision < 0 else { return .int(int) }
                let scale = pow(10.0, Double(-precision))
                return .int(Int((Double(int) / scale).rounded(.toNearestOrEven) * scale))
            }
            number = Double(int)
        case .bool(let flag):
            if method == "common" { return .int(flag ? 1 : 0) }
            number = flag ? 1 : 0
        case .double(let double):
            number = double
        default:
            throw TemplateFailure("type \(value.typeName) doesn't define __round__ method")
        }
        guard number.isFinite else { return .double(number) }
        switch method {
        case "ceil": return .double((number * pow(10.0, Double(precision))).rounded(.up) / pow(10.0, Double(precision)))
        case "floor":
            return .double((number * pow(10.0, Double(precision))).rounded(.down) / pow(10.0, Double(precision)))
        default:
            if precision >= 0 && precision <= 300 {
                // "%.Nf" rounds the exact binary value correctly, as Python's round does.
                return .double(Double(String(format: "%.\(precision)f", number)) ?? number)
            }
            let scale = pow(10.0, Double(-precision))
            return .double((number / scale).rounded(.toNearestOrEven) * scale)
        }
    }

    /// Python `float(value)`, or nil where Python raises TypeError/ValueError.
    static func pythonFloat(_ value: TemplateValue) -> Double? {
        switch value {
        case .bool(let flag): return flag ? 1 : 0
        case .int(let number): return Double(number)
        case .double(let number): return number
        case .string(let text):
            let trimmed = PythonText.strip(text)
            let lowered = trimmed.lowercased()
            if ["inf", "+inf", "infinity", "+infinity"].contains(lowered) { return .infinity }
            if ["-inf", "-infinity"].contains(lowered) { return -.infinity }
            if ["nan", "+nan", "-nan"].contains(lowered) { return .nan }
            guard !trimmed.isEmpty, !trimmed.hasPrefix("_"), !trimmed.hasSuffix("_"), !trimmed.contains("__"),
                trimmed.unicodeScalars.allSatisfy({ "0123456789+-.eE_".unicodeScalars.contains($0) })
            else { return nil }
            return Double(PythonText.replace(trimmed, "_", ""))
        default: return nil
        }
    }

    /// Jinja's `int` filter conversion: `int(value, base)` for strings, `int(value)` otherwise, then
    /// `int(float(value))`; nil where all of those fail.
    static func pythonInt(_ value: TemplateValue, base: Int) throws -> Int? {
        switch value {
        case .bool(let flag): return flag ? 1 : 0
        case .int(let number): return number
        case .double(let number):
            guard number.isFinite else {
                if number.isNaN { return nil }
                throw TemplateFailure("cannot convert float infinity to integer")
            }
            guard let converted = Int(exactly: number.rounded(.towardZero)) else { throw TemplateFailure("integer overflow") }
            return converted
        case .string(let text):
            if let parsed = parseInt(text, base: base) { return parsed }
            if let double = pythonFloat(value) { return try pythonInt(.double(double), base: base) }
            return nil
        default:
            return nil
        }
    }

    private static func parseInt(_ text: String, base: Int) -> Int? {
        var body = PythonText.strip(text)
        var negative = false
        if body.hasPrefix("-") || body.hasPrefix("+") {
            negative = body.hasPrefix("-")
            body.removeFirst()
        }
        var radix = base
        let lower = body.lowercased()
        for (prefix, prefixRadix) in [("0x", 16), ("0o", 8), ("0b", 2)] where lower.hasPrefix(prefix) {
            if base == prefixRadix || base == 0 {
                radix = prefixRadix
                body = String(body.dropFirst(2))
                if body.hasPrefix("_") { body.removeFirst() }
            }
        }
        if radix == 0 { radix = 10 }
        guard (2...36).contains(radix), !body.isEmpty, !body.hasPrefix("_"), !body.hasSuffix("_"),
            !body.contains("__")
        else { return nil }
        guard let magnitude = Int(PythonText.replace(body, "_", ""), radix: radix) else { return nil }
        return negative ? -magnitude : magnitude
    }
}
