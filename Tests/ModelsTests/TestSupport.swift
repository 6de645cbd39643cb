import Engine
import Foundation

enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")
    static func url(_ relative: String) -> URL { root.appendingPathComponent(relative) }
}

/// The real models, fetched into the model cache on first use; a failed fetch fails the test.
enum TestModels {
    static func smollm2() throws -> String {
        try ModelStore().resolve("smollm2-135m") { print($0) }.path
    }

    static func gemma3() throws -> String {
        try ModelStore().resolve("gemma3-270m") { print($0) }.path
    }
}

extension Array where Element == Float {
    func cosineSimilarity(_ other: [Float]) -> Double {
        var dot = 0.0, a = 0.0, b = 0.0
        for (x, y) in zip(self, other) {
            dot += Double(x) * Double(y); a += Double(x) * Double(x); b += Double(y) * Double(y)
        }
        return dot / (a.squareRoot() * b.squareRoot())
    }
}
