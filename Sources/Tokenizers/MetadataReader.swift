import GGUF

/// Typed access to GGUF metadata: absent keys read as nil, keys of the wrong type throw.
struct MetadataReader {
    let metadata: [String: GGUFValue]

    func string(_ key: String) throws -> String? {
        guard let value = metadata[key] else { return nil }
        guard let string = value.string else { throw TokenizerError.wrongType(key: key, expected: "a string") }
        return string
    }

    func int(_ key: String) throws -> Int? {
        guard let value = metadata[key] else { return nil }
        guard let int = value.int else { throw TokenizerError.wrongType(key: key, expected: "an integer") }
        return int
    }

    func bool(_ key: String) throws -> Bool? {
        guard let value = metadata[key] else { return nil }
        guard let bool = value.bool else { throw TokenizerError.wrongType(key: key, expected: "a bool") }
        return bool
    }

    func stringArray(_ key: String) throws -> [String]? {
        guard let value = metadata[key] else { return nil }
        guard let array = value.array else { throw TokenizerError.wrongType(key: key, expected: "an array of strings") }
        var strings: [String] = []
        strings.reserveCapacity(array.count)
        for element in array {
            guard let string = element.string else {
                throw TokenizerError.wrongType(key: key, expected: "an array of strings")
            }
            strings.append(string)
        }
        return strings
    }

    func intArray(_ key: String) throws -> [Int]? {
        guard let value = metadata[key] else { return nil }
        guard let array = value.array else { throw TokenizerError.wrongType(key: key, expected: "an array of integers") }
        var ints: [Int] = []
        ints.reserveCapacity(array.count)
        for element in array {
            guard let int = element.int else {
                throw TokenizerError.wrongType(key: key, expected: "an array of integers")
            }
            ints.append(int)
        }
        return ints
    }

    /// Float array; integer elements are converted (llama.cpp accepts `tokenizer.ggml.scores` as int32 too).
    func floatArray(_ key: String) throws -> [Float]? {
        guard let value = metadata[key] else { return nil }
        guard let array = value.array else { throw TokenizerError.wrongType(key: key, expected: "an array of numbers") }
        var floats: [Float] = []
        floats.reserveCapacity(array.count)
        for element in array {
            guard let float = element.float ?? element.int.map(Float.init) else {
                throw TokenizerError.wrongType(key: key, expected: "an array of numbers")
            }
            floats.append(float)
        }
        return floats
    }
}
