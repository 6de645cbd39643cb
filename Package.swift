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
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
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
        .executableTarget(name: "swiftllm", dependencies: [
            "Engine", "GGUF", "Models", "Tokenizers", "Kernels",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "GGUFTests", dependencies: ["GGUF"]),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "CKernels", "GGUF"]),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers", "GGUF", "Engine"]),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "Kernels", "GGUF", "Tokenizers", "Engine"]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "Tokenizers", "Models"]),
    ],
    swiftLanguageModes: [.v5]
)
