import XCTest
@testable import Engine

final class StopStringMatcherTests: XCTestCase {
    /// Feeds all deltas; returns each emitted piece, whether it stopped, and the final text.
    private func run(_ stops: [String], _ deltas: [String]) -> (pieces: [String], stopped: Bool, text: String) {
        var matcher = StopStringMatcher(stopStrings: stops)
        var pieces: [String] = []
        var stopped = false
        for delta in deltas {
            let output = matcher.append(delta)
            pieces.append(output.text)
            if output.stopped { stopped = true; break }
        }
        let tail = matcher.finish()
        if !tail.isEmpty { pieces.append(tail) }
        return (pieces, stopped, pieces.joined())
    }

    /// Reference: the text cut before the earliest occurrence (by scalar) of any stop string.
    private func reference(_ stops: [String], _ text: String) -> (String, Bool) {
        let scalars = Array(text.unicodeScalars)
        for start in 0..<max(scalars.count, 1) where start < scalars.count {
            for stop in stops where !stop.isEmpty {
                let s = Array(stop.unicodeScalars)
                if start + s.count <= scalars.count, Array(scalars[start..<(start + s.count)]) == s {
                    var view = String.UnicodeScalarView()
                    view.append(contentsOf: scalars[..<start])
                    return (String(view), true)
                }
            }
        }
        return (text, false)
    }

    func testNoStopStringsPassThrough() {
        let result = run([], ["Hello", ", ", "world"])
        XCTAssertEqual(result.pieces, ["Hello", ", ", "world"])
        XCTAssertFalse(result.stopped)
    }

    func testStopInsideOneDelta() {
        let result = run(["END"], ["abc END def"])
        XCTAssertEqual(result.text, "abc ")
        XCTAssertTrue(result.stopped)
    }

    func testStopSplitAcrossDeltasIsHeldBack() {
        var matcher = StopStringMatcher(stopStrings: ["</s>"])
        XCTAssertEqual(matcher.append("Hi <"), .init(text: "Hi ", stopped: false, matched: nil))
        XCTAssertEqual(matcher.append("/"), .init(text: "", stopped: false, matched: nil))
        XCTAssertEqual(matcher.append("s> more"), .init(text: "", stopped: true, matched: "</s>"))
        XCTAssertEqual(matcher.append("ignored"), .init(text: "", stopped: true, matched: nil))
        XCTAssertTrue(matcher.isStopped)
        XCTAssertEqual(matcher.finish(), "")
    }

    func testFalseStartIsReleased() {
        var matcher = StopStringMatcher(stopStrings: ["</s>"])
        XCTAssertEqual(matcher.append("a </").text, "a ")
        XCTAssertEqual(matcher.append("b>").text, "</b>")
        XCTAssertEqual(matcher.append("<").text, "")
        XCTAssertEqual(matcher.finish(), "<")
    }

    func testRepeatedPrefixCharacters() {
        // "aab" in "aaab": the held "aa" must slide by one, not be dropped.
        XCTAssertEqual(run(["aab"], ["a", "a", "a", "b", "c"]).text, "a")
        XCTAssertEqual(run(["aab"], ["aa", "a", "c"]).text, "aaac")
    }

    func testOverlappingCandidatesEarliestStartWins() {
        XCTAssertEqual(run(["bcd", "abc"], ["xab", "cd"]).text, "x")
        XCTAssertEqual(run(["abcd", "bc"], ["ab", "cd"]).text, "")
        XCTAssertEqual(run(["abcd", "bc"], ["ab", "ce"]).text, "a")
        // A longer candidate still possible does not delay a complete shorter match.
        var matcher = StopStringMatcher(stopStrings: ["hello world", "lo"])
        let output = matcher.append("hel")
        XCTAssertEqual(output.text, "")
        XCTAssertEqual(matcher.append("lo"), .init(text: "hel", stopped: true, matched: "lo"))
    }

    func testMultipleStopStrings() {
        let stops = ["\n\n", "User:", "###"]
        XCTAssertEqual(run(stops, ["Answer", ": 4", "2\n", "Us", "er:", " next"]).text, "Answer: 42\n")
        XCTAssertEqual(run(stops, ["Answer", "\n", "\n", "User:"]).text, "Answer")
        XCTAssertEqual(run(stops, ["a#", "#", "b"]).text, "a##b")
    }

    func testUnicode() {
        // Multi-scalar emoji and accented stop string split at scalar boundaries.
        XCTAssertEqual(run(["👍🏽"], ["ok ", "👍", "🏽", " done"]).text, "ok ")
        XCTAssertEqual(run(["café"], ["le caf", "é", " noir"]).text, "le ")
        XCTAssertEqual(run(["終わり"], ["これで", "終", "わ", "り", "です"]).text, "これで")
        let noStop = run(["終わり"], ["終", "了", "👍"])
        XCTAssertEqual(noStop.text, "終了👍")
        XCTAssertFalse(noStop.stopped)
    }

    func testEmptyStopStringsAreIgnored() {
        XCTAssertEqual(run(["", "x"], ["abc", "dxe"]).text, "abcd")
    }

    func testRandomSplitsMatchReference() {
        var rng = Xoshiro256StarStar(seed: 99)
        let alphabet = Array("ab<>/é👍 ".unicodeScalars)
        let stopSets = [["</s>"], ["ab", "ba"], ["aab", "ab<"], ["é👍", "<<"], ["abab", "b/"]]
        for trial in 0..<2000 {
            let stops = stopSets[trial % stopSets.count]
            let length = Int(rng.next() % 24)
            var view = String.UnicodeScalarView()
            for _ in 0..<length { view.append(alphabet[Int(rng.next() % UInt64(alphabet.count))]) }
            let scalars = Array(view)
            var deltas: [String] = []
            var i = 0
            while i < scalars.count {
                let step = 1 + Int(rng.next() % 4)
                var piece = String.UnicodeScalarView()
                piece.append(contentsOf: scalars[i..<min(i + step, scalars.count)])
                deltas.append(String(piece))
                i += step
            }
            let (expectedText, expectedStop) = reference(stops, String(view))
            let result = run(stops, deltas)
            XCTAssertEqual(result.text, expectedText, "stops \(stops) deltas \(deltas)")
            XCTAssertEqual(result.stopped, expectedStop, "stops \(stops) deltas \(deltas)")
        }
    }
}
