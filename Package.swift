// swift-tools-version:6.0
import PackageDescription

// No unsafe flags anywhere: other packages must be able to depend on the `SwiftLLM` library.
// SIMD code gets its instruction sets from per-function target attributes in CKernels.
let package = Package(
    name: "SwiftLLM",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "swiftllm", targets: ["swiftllm"]),
        .library(name: "SwiftLLM", targets: ["GGUF", "Kernels", "Models", "Tokenizers", "Engine"]),
        .library(name: "SwiftLLMServer", targets: ["Server"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    ],
    targets: [
        .target(name: "GGUF"),
        .target(name: "CKernels", cSettings: [.define("NDEBUG")]),
        .target(name: "Kernels", dependencies: ["CKernels", "GGUF"]),
        .target(name: "Tokenizers", dependencies: ["GGUF"]),
        .target(name: "Models", dependencies: ["GGUF", "Kernels", "CKernels"]),
        .target(name: "Engine", dependencies: [
            "GGUF", "Kernels", "Models", "Tokenizers",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "ZIPFoundation", package: "ZIPFoundation"),
        ]),
        // Measurement tools of `swiftllm bench` (machine probes, roofline, ...).
        .target(name: "Benchmarks", dependencies: ["Engine", "Models", "Kernels", "CKernels", "GGUF"]),
        // The OpenAI-compatible HTTP server; outside the `SwiftLLM` library so that library users
        // do not pull in SwiftNIO.
        .target(name: "Server", dependencies: [
            "Engine", "Models", "Tokenizers", "GGUF",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
        ]),
        .executableTarget(name: "swiftllm", dependencies: [
            "Engine", "GGUF", "Models", "Tokenizers", "Kernels", "Server", "Benchmarks",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "GGUFTests", dependencies: ["GGUF"]),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "CKernels", "GGUF"]),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers", "GGUF", "Engine"]),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "Kernels", "GGUF", "Tokenizers", "Engine"]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "Tokenizers", "Models"]),
        .testTarget(name: "ServerTests", dependencies: [
            "Server", "Engine",
            .product(name: "HummingbirdTesting", package: "hummingbird"),
        ]),
        // Drives the built `swiftllm serve` with the real openai client and headless Chromium.
        .testTarget(name: "EndToEndTests"),
    ],
    swiftLanguageModes: [.v5]
)
