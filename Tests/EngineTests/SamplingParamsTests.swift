import Foundation
import XCTest
@testable import Engine

final class SamplingParamsTests: XCTestCase {
    func testDefaultsValidate() throws {
        try SamplingParams().validate()
        try SamplingParams.greedy.validate()
        try SamplingParams(temperature: 0.7, topK: 40, topP: 0.95, minP: 0.05, repetitionPenalty: 1.1,
                           presencePenalty: -2, frequencyPenalty: 2, seed: 1, maxTokens: 1,
                           stop: ["\n"], stopTokenIDs: [0]).validate()
    }

    func testValidationMessages() {
        let cases: [(SamplingParams, String)] = [
            (SamplingParams(temperature: -1), "temperature must be >= 0 and finite (got -1.0)"),
            (SamplingParams(temperature: .nan), "temperature must be >= 0 and finite (got nan)"),
            (SamplingParams(topK: -1), "top_k must be >= 0 (got -1)"),
            (SamplingParams(topP: 0), "top_p must be in (0, 1] (got 0.0)"),
            (SamplingParams(topP: 1.5), "top_p must be in (0, 1] (got 1.5)"),
            (SamplingParams(minP: -0.1), "min_p must be in [0, 1] (got -0.1)"),
            (SamplingParams(minP: 2), "min_p must be in [0, 1] (got 2.0)"),
            (SamplingParams(repetitionPenalty: 0), "repetition_penalty must be in (0, 10] (got 0.0)"),
            (SamplingParams(repetitionPenalty: 11), "repetition_penalty must be in (0, 10] (got 11.0)"),
            (SamplingParams(penaltyLastN: -1), "penalty_last_n must be >= 0 (got -1)"),
            (SamplingParams(presencePenalty: 2.5), "presence_penalty must be in [-2, 2] (got 2.5)"),
            (SamplingParams(frequencyPenalty: -3), "frequency_penalty must be in [-2, 2] (got -3.0)"),
            (SamplingParams(maxTokens: 0), "max_tokens must be >= 1 (got 0)"),
            (SamplingParams(stop: ["ok", ""]), "stop strings must not be empty"),
            (SamplingParams(stopTokenIDs: [3, -1]), "stop_token_ids must be >= 0 (got -1)"),
        ]
        for (params, message) in cases {
            XCTAssertThrowsError(try params.validate()) { error in
                XCTAssertEqual((error as? SamplingParamsError)?.description, message)
            }
        }
    }

    func testCodableUsesSnakeCaseAndDefaultsMissingKeys() throws {
        let json = #"{"temperature": 0.5, "top_k": 20, "max_tokens": 8, "stop": ["\n"], "seed": 7}"#
        let decoded = try JSONDecoder().decode(SamplingParams.self, from: Data(json.utf8))
        var expected = SamplingParams(temperature: 0.5, topK: 20, seed: 7, maxTokens: 8, stop: ["\n"])
        XCTAssertEqual(decoded, expected)
        expected.ignoreEOS = true
        expected.stopTokenIDs = [2]
        let roundTrip = try JSONDecoder().decode(SamplingParams.self, from: JSONEncoder().encode(expected))
        XCTAssertEqual(roundTrip, expected)
        XCTAssertEqual(try JSONDecoder().decode(SamplingParams.self, from: Data("{}".utf8)), SamplingParams())
    }
}
