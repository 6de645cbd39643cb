import Foundation
@testable import Server
import XCTest

final class JSONValueTests: XCTestCase {
    func decode(_ s: String) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(s.utf8))
    }

    func testDecodesEveryKindAndKeepsBoolsApartFromNumbers() throws {
        let v = try decode(#"{"a": true, "b": 1, "c": 1.5, "d": "x", "e": [null, false], "f": {"g": -3}}"#)
        XCTAssertEqual(v["a"], .bool(true))
        XCTAssertEqual(v["b"], .int(1))
        XCTAssertEqual(v["c"], .double(1.5))
        XCTAssertEqual(v["d"], .string("x"))
        XCTAssertEqual(v["e"], .array([.null, .bool(false)]))
        XCTAssertEqual(v["f"]?["g"], .int(-3))
    }

    func testSerializesValidJSONWithEscapesAndExplicitNulls() throws {
        let v: JSONValue = ["s": .string("a\"b\\c\n\u{1}é😀"), "n": .null, "d": 0.25, "i": 3, "w": 2.0, "l": [true, false]]
        let text = v.serialized
        XCTAssertEqual(text, #"{"d":0.25,"i":3,"l":[true,false],"n":null,"s":"a\"b\\c\n\u0001é😀","w":2.0}"#)
        // 2.0 comes back as the integer 2: JSON does not tell them apart.
        XCTAssertEqual(try decode(text).serialized, text.replacingOccurrences(of: "2.0", with: "2"))
        XCTAssertEqual(JSONValue.double(.nan).serialized, "null")
    }

    func testFieldErrorsNameTheField() throws {
        let f = try RequestFields(decode(#"{"temperature": "hot", "n": 1.5, "stop": ["a", 3], "x": null}"#))
        XCTAssertThrowsError(try f.number("temperature")) { XCTAssertEqual(($0 as? APIError)?.param, "temperature") }
        XCTAssertThrowsError(try f.int("n")) { XCTAssertEqual(($0 as? APIError)?.param, "n") }
        XCTAssertThrowsError(try f.strings("stop")) { XCTAssertEqual(($0 as? APIError)?.param, "stop") }
        XCTAssertNil(try f.string("x"), "null counts as absent")
        XCTAssertThrowsError(try RequestFields(.array([])))
    }

    func testAPIErrorBodyIsOpenAIsShape() {
        let e = APIError.invalid("bad", param: "top_p")
        XCTAssertEqual(e.body.serialized, #"{"error":{"code":null,"message":"bad","param":"top_p","type":"invalid_request_error"}}"#)
        XCTAssertEqual(e.status.code, 400)
    }

    func testAPIKeyComparison() {
        XCTAssertTrue(APIKeyMiddleware<BasicRequestContextStub>.constantTimeEqual([1, 2, 3], [1, 2, 3]))
        XCTAssertFalse(APIKeyMiddleware<BasicRequestContextStub>.constantTimeEqual([1, 2, 3], [1, 2, 4]))
        XCTAssertFalse(APIKeyMiddleware<BasicRequestContextStub>.constantTimeEqual([1, 2], [1, 2, 3]))
    }
}

import Hummingbird
typealias BasicRequestContextStub = BasicRequestContext
