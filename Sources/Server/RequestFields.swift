/// Typed access to the fields of a JSON request object. A wrong type or an out-of-range value
/// is a 400 naming the field; `null` counts as absent, as OpenAI's own server treats it.
struct RequestFields {
    let object: [String: JSONValue]

    init(_ value: JSONValue) throws {
        guard case .object(let o) = value else { throw APIError.invalid("The request body must be a JSON object") }
        object = o
    }

    func has(_ key: String) -> Bool { value(key) != nil }

    func value(_ key: String) -> JSONValue? {
        guard let v = object[key], v != .null else { return nil }
        return v
    }

    func string(_ key: String) throws -> String? {
        guard let v = value(key) else { return nil }
        guard case .string(let s) = v else { throw wrongType(key, v, "a string") }
        return s
    }

    func bool(_ key: String) throws -> Bool? {
        guard let v = value(key) else { return nil }
        guard case .bool(let b) = v else { throw wrongType(key, v, "a boolean") }
        return b
    }

    func int(_ key: String, in range: ClosedRange<Int>? = nil) throws -> Int? {
        guard let v = value(key) else { return nil }
        let i: Int
        switch v {
        case .int(let x): i = x
        case .double(let d) where d == d.rounded() && abs(d) < 1e15: i = Int(d)
        default: throw wrongType(key, v, "an integer")
        }
        if let range, !range.contains(i) {
            throw APIError.invalid("'\(key)' must be between \(range.lowerBound) and \(range.upperBound) (got \(i))", param: key)
        }
        return i
    }

    func number(_ key: String) throws -> Double? {
        guard let v = value(key) else { return nil }
        switch v {
        case .int(let x): return Double(x)
        case .double(let d): return d
        default: throw wrongType(key, v, "a number")
        }
    }

    /// A string or a list of strings (`stop`).
    func strings(_ key: String) throws -> [String]? {
        guard let v = value(key) else { return nil }
        switch v {
        case .string(let s): return [s]
        case .array(let a):
            return try a.map { e in
                guard case .string(let s) = e else { throw wrongType(key, e, "a string or a list of strings") }
                return s
            }
        default: throw wrongType(key, v, "a string or a list of strings")
        }
    }

    func object(_ key: String) throws -> RequestFields? {
        guard let v = value(key) else { return nil }
        guard case .object = v else { throw wrongType(key, v, "an object") }
        return try RequestFields(v)
    }

    func wrongType(_ key: String, _ v: JSONValue, _ expected: String) -> APIError {
        APIError.invalid("'\(key)' must be \(expected) (got \(v.kindName))", param: key)
    }

    /// Fields outside `known`, for the log's warning.
    func unknownFields(known: Set<String>) -> [String] {
        object.keys.filter { !known.contains($0) }.sorted()
    }
}
