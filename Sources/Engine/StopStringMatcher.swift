/// Finds stop strings in streamed text and says how much of it is safe to emit.
///
/// Text arrives in deltas; a stop string may be split across several of them. The matcher
/// emits text as soon as it can no longer be part of a stop string and holds back any suffix
/// that might still grow into one. The stop string and everything after it are never emitted.
///
/// Matching is by Unicode scalar, like Python's `str.find` in vLLM and like a byte match on
/// valid UTF-8: a delta boundary can split a grapheme cluster but never a scalar, so matches
/// do not depend on how the text was split. When several stop strings match, the one starting
/// earliest wins.
///
/// The concatenation of everything emitted (plus ``finish()``) equals the full text cut
/// before the first stop string.
public struct StopStringMatcher: Sendable {
    /// What ``append(_:)`` lets through.
    public struct Output: Equatable, Sendable {
        /// Text that is safe to emit now; may be empty.
        public var text: String
        /// True once a stop string has been found: generation should end.
        public var stopped: Bool
        /// The stop string that matched, when `stopped`.
        public var matched: String?
    }

    private let stops: [[Unicode.Scalar]]
    private var held: [Unicode.Scalar] = []  // suffix that is a proper prefix of some stop string
    /// True once a stop string has been found; later deltas are ignored.
    public private(set) var isStopped = false

    /// Empty stop strings are ignored (they would match before any text).
    public init(stopStrings: [String]) {
        stops = stopStrings.filter { !$0.isEmpty }.map { Array($0.unicodeScalars) }
    }

    /// Feeds the next delta of generated text.
    public mutating func append(_ delta: String) -> Output {
        guard !isStopped else { return Output(text: "", stopped: true, matched: nil) }
        if stops.isEmpty { return Output(text: delta, stopped: false, matched: nil) }

        var buffer = held
        buffer.append(contentsOf: delta.unicodeScalars)
        held.removeAll(keepingCapacity: true)

        if let (start, which) = earliestMatch(in: buffer) {
            isStopped = true
            return Output(text: Self.string(buffer[..<start]), stopped: true, matched: Self.string(stops[which][...]))
        }
        let keep = longestPossibleStart(in: buffer)
        held.append(contentsOf: buffer[(buffer.count - keep)...])
        return Output(text: Self.string(buffer[..<(buffer.count - keep)]), stopped: false, matched: nil)
    }

    /// Returns the held-back text when generation ends without a stop string ("" after a stop).
    public mutating func finish() -> String {
        defer { held.removeAll() }
        return isStopped ? "" : Self.string(held[...])
    }

    /// Start of the earliest full match and the index of the stop string that made it.
    private func earliestMatch(in buffer: [Unicode.Scalar]) -> (Int, Int)? {
        var best: (Int, Int)? = nil
        for (which, stop) in stops.enumerated() where stop.count <= buffer.count {
            let lastStart = best.map { min($0.0 - 1, buffer.count - stop.count) } ?? (buffer.count - stop.count)
            guard lastStart >= 0 else { continue }
            for start in 0...lastStart where buffer[start..<(start + stop.count)].elementsEqual(stop) {
                best = (start, which)
                break
            }
        }
        return best
    }

    /// Length of the longest suffix of `buffer` that is a proper prefix of some stop string.
    private func longestPossibleStart(in buffer: [Unicode.Scalar]) -> Int {
        var longest = 0
        for stop in stops {
            var length = min(stop.count - 1, buffer.count)
            while length > longest {
                if buffer[(buffer.count - length)...].elementsEqual(stop[..<length]) {
                    longest = length
                    break
                }
                length -= 1
            }
        }
        return longest
    }

    private static func string(_ scalars: ArraySlice<Unicode.Scalar>) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }
}
