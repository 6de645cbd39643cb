/// A value a chat template works with: the Python objects `transformers` hands to Jinja, in Swift.
///
/// Messages, tools and any extra template variables are built from these; a message is a `.dictionary`, so fields
/// beyond `role` and `content` (`tool_calls`, `name`, ...) travel unchanged. Dictionaries keep insertion order, as
/// Python's do, because `tojson` and printing show keys in that order.
///
/// Swift `==` is structural (numbers compare across `.int`/`.double` as Python's `==` does); the template's own `==`
/// follows Python and lives in the interpreter.
public enum TemplateValue: Sendable, Equatable {
    /// Jinja's `Undefined`: a missing variable, key or attribute. Prints as "", is falsy, iterates as empty.
    case undefined
    /// Python `None`.
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    /// A Python list (tuples are lists here too).
    case array([TemplateValue])
    /// A Python dict with string keys, in insertion order.
    case dictionary(TemplateDictionary)
    /// Something only the interpreter makes: a namespace, a macro, a bound method, a builtin function, a loop.
    case object(TemplateObject)

    /// Python truthiness: empty strings and containers, zero, `None` and undefined are false.
    public var isTruthy: Bool {
        switch self {
        case .undefined, .none: return false
        case .bool(let value): return value
        case .int(let value): return value != 0
        case .double(let value): return value != 0
        case .string(let value): return !value.isEmpty
        case .array(let items): return !items.isEmpty
        case .dictionary(let dictionary): return !dictionary.isEmpty
        case .object: return true
        }
    }

    /// True for every value except `.undefined`.
    public var isDefined: Bool {
        if case .undefined = self { return false }
        return true
    }

    /// The string payload, if this is a string.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The Python type name, for error messages.
    var typeName: String {
        switch self {
        case .undefined: return "Undefined"
        case .none: return "NoneType"
        case .bool: return "bool"
        case .int: return "int"
        case .double: return "float"
        case .string: return "str"
        case .array: return "list"
        case .dictionary: return "dict"
        case .object(let object): return object.typeName
        }
    }

    public static func == (lhs: TemplateValue, rhs: TemplateValue) -> Bool {
        switch (lhs, rhs) {
        case (.undefined, .undefined), (.none, .none): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.int(let a), .int(let b)): return a == b
        case (.double(let a), .double(let b)): return a == b
        case (.int(let a), .double(let b)), (.double(let b), .int(let a)): return Double(a) == b
        case (.string(let a), .string(let b)): return a.unicodeScalars.elementsEqual(b.unicodeScalars)
        case (.array(let a), .array(let b)): return a == b
        case (.dictionary(let a), .dictionary(let b)): return a == b
        case (.object(let a), .object(let b)): return a == b
        default: return false
        }
    }
}

extension TemplateValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: TemplateValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, TemplateValue)...) {
        self = .dictionary(TemplateDictionary(elements))
    }
    /// `nil` is Python `None`, not undefined.
    public init(nilLiteral: ()) { self = .none }
}

/// A string-keyed dictionary that remembers insertion order, like a Python dict.
///
/// Setting an existing key keeps its position. Equality ignores order, as Python's does.
public struct TemplateDictionary: Sendable, Equatable {
    public private(set) var keys: [String] = []
    private var storage: [String: TemplateValue] = [:]

    public init() {}

    /// Later duplicates overwrite earlier values but keep the first position.
    public init<S: Sequence>(_ pairs: S) where S.Element == (String, TemplateValue) {
        for (key, value) in pairs { self[key] = value }
    }

    public var count: Int { keys.count }
    public var isEmpty: Bool { keys.isEmpty }

    /// The value for `key`, or nil; assigning nil removes the key.
    public subscript(key: String) -> TemplateValue? {
        get { storage[key] }
        set {
            if let newValue {
                if storage.updateValue(newValue, forKey: key) == nil { keys.append(key) }
            } else if storage.removeValue(forKey: key) != nil {
                keys.removeAll { $0 == key }
            }
        }
    }

    /// Key/value pairs in insertion order.
    public var pairs: [(key: String, value: TemplateValue)] {
        keys.map { ($0, storage[$0]!) }
    }

    public var values: [TemplateValue] { keys.map { storage[$0]! } }

    public static func == (lhs: TemplateDictionary, rhs: TemplateDictionary) -> Bool {
        lhs.storage == rhs.storage
    }
}

/// A value only the template interpreter creates. Opaque outside this module.
public struct TemplateObject: Sendable, Equatable {
    let kind: Kind

    init(_ kind: Kind) { self.kind = kind }

    indirect enum Kind: Sendable, Equatable {
        /// A `namespace()`; the number indexes the render's namespace table, which gives it reference semantics.
        case namespace(Int)
        /// A macro (or a call block's `caller`); the number indexes the render's macro table.
        case macro(Int, name: String)
        /// A global function: `raise_exception`, `strftime_now`, `namespace`, `range`, `dict`.
        case builtin(String)
        /// A method looked up on a value, waiting for its call: `'a,b'.split`.
        case method(receiver: TemplateValue, name: String)
        /// A method the immutable sandbox forbids (`list.append`, `dict.update`): an error when used.
        case unsafeMethod(typeName: String, name: String)
        /// The `loop` variable of a `for` loop.
        case loop(TemplateLoopState)
        /// What a lazy Jinja filter (`select`, `map`, `unique`, `items`, ...) returns: a Python generator, which is
        /// always truthy and has no length, though it iterates like a list. `name` is the Python type's name.
        case iterator([TemplateValue], name: String)
    }

    var typeName: String {
        switch kind {
        case .namespace: return "Namespace"
        case .macro: return "Macro"
        case .builtin: return "function"
        case .method: return "builtin_function_or_method"
        case .unsafeMethod: return "Undefined"
        case .loop: return "LoopContext"
        case .iterator(_, let name): return name
        }
    }
}

/// What `loop.*` reads inside one iteration of a `for` loop.
struct TemplateLoopState: Sendable, Equatable {
    var index0: Int
    var length: Int
    var previous: TemplateValue
    var next: TemplateValue
    var depth0: Int
}
