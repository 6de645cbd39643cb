/// Python methods templates call on strings, dictionaries, lists and `loop`: `message.content.strip()`,
/// `tool.items()`, `loop.cycle('odd', 'even')`.
extension TemplateInterpreter {
    static let stringMethods: Set<String> = [
        "strip", "lstrip", "rstrip", "startswith", "endswith", "split", "rsplit", "splitlines", "upper", "lower",
        "title", "capitalize", "swapcase", "casefold", "replace", "find", "rfind", "index", "rindex", "count",
        "format", "join", "isdigit", "isalpha", "isalnum", "isspace", "isupper", "islower", "isnumeric",
        "isdecimal", "zfill", "center", "ljust", "rjust", "removeprefix", "removesuffix", "partition", "rpartition",
    ]

    mutating func callMethod(_ receiver: TemplateValue, _ name: String, _ arguments: TemplateCallArguments) throws
        -> TemplateValue
    {
        switch receiver {
        case .string(let text): return try callStringMethod(text, name, arguments)
        case .dictionary(let dictionary): return try callDictionaryMethod(dictionary, name, arguments)
        case .array(let items): return try callListMethod(items, name, arguments)
        case .object(let object):
            if case .loop(let state) = object.kind, name == "cycle" {
                guard !arguments.positional.isEmpty else { throw TemplateFailure("no items for cycling given") }
                return arguments.positional[state.index0 % arguments.positional.count]
            }
        default:
            break
        }
        throw TemplateFailure("'\(receiver.typeName)' object has no attribute '\(name)'")
    }

    private func optionalString(_ value: TemplateValue?, _ function: String) throws -> String? {
        switch value {
        case nil, .none?: return nil
        case .string(let text)?: return text
        case let other?: throw TemplateFailure("\(function) arg must be None or str, not \(other.typeName)")
        }
    }

    private func requiredString(_ value: TemplateValue?, _ function: String) throws -> String {
        guard case .string(let text)? = value else {
            throw TemplateFailure("\(function)() argument must be str, not \(value?.typeName ?? "nothing")")
        }
        return text
    }

    private func integer(_ value: TemplateValue?, default defaultValue: Int, _ function: String) throws -> Int {
        switch value {
        case nil, .none?: return defaultValue
        case .int(let number)?: return number
        case .bool(let flag)?: return flag ? 1 : 0
        case let other?: throw TemplateFailure("\(function)() expects an integer, not \(other.typeName)")
        }
    }

    private func characterTest(_ text: String, _ test: (Unicode.Scalar) -> Bool) -> TemplateValue {
        .bool(!text.isEmpty && text.unicodeScalars.allSatisfy(test))
    }

    private func padded(_ text: String, _ arguments: TemplateCallArguments, _ name: String) throws -> TemplateValue {
        let bound = try arguments.bind(["width", "fillchar"], function: name, required: 1)
        let width = try integer(bound[0], default: 0, name)
        try PythonText.checkSize(width)
        let fill = try optionalString(bound[1], name) ?? " "
        guard fill.unicodeScalars.count == 1 else {
            throw TemplateFailure("The fill character must be exactly one character long")
        }
        let missing = width - PythonText.length(text)
        guard missing > 0 else { return .string(text) }
        switch name {
        case "ljust": return .string(text + String(repeating: fill, count: missing))
        case "rjust": return .string(String(repeating: fill, count: missing) + text)
        default:
            // CPython: the odd extra fill goes left when both the margin and the width are odd.
            let left = missing / 2 + (missing & width & 1)
            return .string(String(repeating: fill, count: left) + text + String(repeating: fill, count: missing - left))
        }
    }

    private mutating func callStringMethod(_ text: String, _ name: String, _ arguments: TemplateCallArguments) throws
        -> TemplateValue
    {
        switch name {
        case "strip", "lstrip", "rstrip":
            let bound = try arguments.bind(["chars"], function: name)
            let chars = try optionalString(bound[0], name)
            return .string(PythonText.strip(text, chars, leading: name != "rstrip", trailing: name != "lstrip"))
        case "startswith", "endswith":
            let bound = try arguments.bind(["prefix", "start", "end"], function: name, required: 1)
            var subject = text
            if bound[1] != nil || bound[2] != nil {
                let length = PythonText.length(text)
                let start = try integer(bound[1], default: 0, name)
                let end = try integer(bound[2], default: length, name)
                subject = try slice(.string(text), start: start, stop: end, step: nil).stringValue ?? ""
            }
            let candidates: [TemplateValue]
            if case .array(let items) = bound[0]! { candidates = items } else { candidates = [bound[0]!] }
            for candidate in candidates {
                guard case .string(let affix) = candidate else {
                    throw TemplateFailure("\(name) first arg must be str or a tuple of str, not \(candidate.typeName)")
                }
                let hit = name == "startswith" ? PythonText.startsWith(subject, affix) : PythonText.endsWith(subject, affix)
                if hit { return .bool(true) }
            }
            return .bool(false)
        case "split", "rsplit":
            let bound = try arguments.bind(["sep", "maxsplit"], function: name)
            let separator = try optionalString(bound[0], name)
            let limit = try integer(bound[1], default: -1, name)
            let pieces = try PythonText.split(text, separator: separator, maxSplit: limit, fromRight: name == "rsplit")
            return .array(pieces.map { .string($0) })
        case "splitlines":
            let bound = try arguments.bind(["keepends"], function: name)
            return .array(PythonText.splitLines(text, keepEnds: bound[0]?.isTruthy ?? false).map { .string($0) })
        case "upper": _ = try arguments.bind([], function: name); return .string(PythonText.upper(text))
        case "lower", "casefold": _ = try arguments.bind([], function: name); return .string(PythonText.lower(text))
        case "title": _ = try arguments.bind([], function: name); return .string(PythonText.title(text))
        case "capitalize": _ = try arguments.bind([], function: name); return .string(PythonText.capitalize(text))
        case "swapcase": _ = try arguments.bind([], function: name); return .string(PythonText.swapCase(text))
        case "replace":
            let bound = try arguments.bind(["old", "new", "count"], function: name, required: 2)
            return .string(PythonText.replace(text, try requiredString(bound[0], name), try requiredString(bound[1], name),
                                              count: try integer(bound[2], default: -1, name)))
        case "find", "rfind", "index", "rindex":
            let bound = try arguments.bind(["sub"], function: name, required: 1)
            let position = PythonText.find(text, try requiredString(bound[0], name), fromRight: name.hasPrefix("r"))
            if position < 0 && name.hasSuffix("index") { throw TemplateFailure("substring not found") }
            return .int(position)
        case "count":
            let bound = try arguments.bind(["sub"], function: name, required: 1)
            return .int(PythonText.count(text, try requiredString(bound[0], name)))
        case "format":
            var keyword: [String: TemplateValue] = [:]
            for (key, value) in arguments.keyword { keyword[key] = value }
            return .string(try PythonFormat.braces(text, positional: arguments.positional, keyword: keyword))
        case "join":
            let bound = try arguments.bind(["iterable"], function: name, required: 1)
            let pieces = try iterate(bound[0]!).map { item -> String in
                guard case .string(let piece) = item else {
                    throw TemplateFailure("sequence item: expected str instance, \(item.typeName) found")
                }
                return piece
            }
            return .string(pieces.joined(separator: text))
        case "isdigit", "isdecimal", "isnumeric":
            return characterTest(text) { $0.properties.numericType != nil }
        case "isalpha": return characterTest(text) { $0.properties.isAlphabetic }
        case "isalnum": return characterTest(text) { $0.properties.isAlphabetic || $0.properties.numericType != nil }
        case "isspace": return characterTest(text, PythonText.isWhitespace)
        case "isupper", "islower":
            let cased = text.unicodeScalars.filter(PythonText.isCased)
            let wanted: Unicode.GeneralCategory = name == "isupper" ? .uppercaseLetter : .lowercaseLetter
            return .bool(!cased.isEmpty && cased.allSatisfy { $0.properties.generalCategory == wanted })
        case "zfill":
            let bound = try arguments.bind(["width"], function: name, required: 1)
            let width = try integer(bound[0], default: 0, name)
            try PythonText.checkSize(width)
            let missing = width - PythonText.length(text)
            guard missing > 0 else { return .string(text) }
            if let first = text.unicodeScalars.first, first == "+" || first == "-" {
                return .string(String(first) + String(repeating: "0", count: missing) + PythonText.string(text.unicodeScalars.dropFirst()))
            }
            return .string(String(repeating: "0", count: missing) + text)
        case "center", "ljust", "rjust":
            return try padded(text, arguments, name)
        case "removeprefix", "removesuffix":
            let bound = try arguments.bind(["affix"], function: name, required: 1)
            let affix = try requiredString(bound[0], name)
            let scalars = Array(text.unicodeScalars)
            let count = affix.unicodeScalars.count
            if name == "removeprefix" && PythonText.startsWith(text, affix) {
                return .string(PythonText.string(scalars[count...]))
            }
            if name == "removesuffix" && !affix.isEmpty && PythonText.endsWith(text, affix) {
                return .string(PythonText.string(scalars[..<(scalars.count - count)]))
            }
            return .string(text)
        case "partition", "rpartition":
            let bound = try arguments.bind(["sep"], function: name, required: 1)
            let separator = try requiredString(bound[0], name)
            if separator.isEmpty { throw TemplateFailure("empty separator") }
            let position = PythonText.find(text, separator, fromRight: name == "rpartition")
            let scalars = Array(text.unicodeScalars)
            if position < 0 {
                return name == "partition" ? [.string(text), "", ""] : ["", "", .string(text)]
            }
            let end = position + separator.unicodeScalars.count
            return [.string(PythonText.string(scalars[..<position])), .string(separator),
                    .string(PythonText.string(scalars[end...]))]
        default:
            throw TemplateFailure("'str' object has no attribute '\(name)'")
        }
    }

    private func callDictionaryMethod(_ dictionary: TemplateDictionary, _ name: String, _ arguments: TemplateCallArguments)
        throws -> TemplateValue
    {
        switch name {
        case "items":
            _ = try arguments.bind([], function: name)
            return .array(dictionary.pairs.map { .array([.string($0.key), $0.value]) })
        case "keys":
            _ = try arguments.bind([], function: name)
            return .array(dictionary.keys.map { .string($0) })
        case "values":
            _ = try arguments.bind([], function: name)
            return .array(dictionary.values)
        case "get":
            let bound = try arguments.bind(["key", "default"], function: name, required: 1)
            guard case .string(let key) = bound[0]! else { return bound[1] ?? .none }
            return dictionary[key] ?? bound[1] ?? .none
        case "copy":
            _ = try arguments.bind([], function: name)
            return .dictionary(dictionary)
        default:
            throw TemplateFailure("'dict' object has no attribute '\(name)'")
        }
    }

    private func callListMethod(_ items: [TemplateValue], _ name: String, _ arguments: TemplateCallArguments) throws
        -> TemplateValue
    {
        switch name {
        case "index":
            let bound = try arguments.bind(["value"], function: name, required: 1)
            guard let position = items.firstIndex(where: { PythonOperators.equals($0, bound[0]!) }) else {
                throw TemplateFailure("\(bound[0]!.pythonRepr) is not in list")
            }
            return .int(position)
        case "count":
            let bound = try arguments.bind(["value"], function: name, required: 1)
            return .int(items.filter { PythonOperators.equals($0, bound[0]!) }.count)
        case "copy":
            _ = try arguments.bind([], function: name)
            return .array(items)
        default:
            throw TemplateFailure("'list' object has no attribute '\(name)'")
        }
    }
}
