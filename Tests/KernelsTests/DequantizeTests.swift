import CKernels
import Foundation
import GGUF
import Kernels
import XCTest

/// Dequantization must be bit-exact with the gguf package (fixtures from
/// scripts/reference/gen_quant_fixtures.py).
final class DequantizeTests: XCTestCase {
    struct Case: Decodable {
        let type: String
        let ggml_type: UInt32
        let n_elements: Int
        let raw_b64: String
        let expected_b64: String
    }

    func loadCases() throws -> [Case] {
        let data = try Data(contentsOf: Fixtures.url("quant/quant_fixtures.json"))
        return try JSONDecoder().decode([Case].self, from: data)
    }

    func testDequantizeBitExactAgainstGGUFPackage() throws {
        var checked = Set<String>()
        for c in try loadCases() {
            guard let type = GGMLType(rawValue: c.ggml_type), CPUFeatures.supports(type) else { continue }
            let raw = [UInt8](Data(base64Encoded: c.raw_b64)!)
            let expectedBytes = [UInt8](Data(base64Encoded: c.expected_b64)!)
            XCTAssertEqual(raw.count, type.byteCount(elements: c.n_elements))
            let expected = expectedBytes.withUnsafeBytes { Array($0.bindMemory(to: UInt32.self)) }
            var out = [Float](repeating: .nan, count: c.n_elements)
            raw.withUnsafeBytes { src in
                out.withUnsafeMutableBufferPointer { dequantize(type, src.baseAddress!, into: $0.baseAddress!, count: c.n_elements) }
            }
            for i in 0..<c.n_elements where out[i].bitPattern != expected[i] {
                XCTFail("\(c.type) element \(i): got \(out[i]) (0x\(String(out[i].bitPattern, radix: 16))), expected \(Float(bitPattern: expected[i]))")
                break
            }
            checked.insert(c.type)
        }
        XCTAssertEqual(checked, ["F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"])
    }

    func testHalfConversionRoundTripsEveryValue() {
        for bits in UInt16.min...UInt16.max {
            let f = ck_fp16_to_fp32(bits)
            if f.isNaN { continue }
            XCTAssertEqual(ck_fp32_to_fp16(f), bits, "half 0x\(String(bits, radix: 16))")
            XCTAssertEqual(Float(Float16(bitPattern: bits)).bitPattern, f.bitPattern)
        }
        // rounding to nearest even matches the platform's Float16 conversion
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<100_000 {
            let f = Float(bitPattern: UInt32.random(in: 0...0x477f_ffff, using: &rng)) * (Bool.random() ? 1 : -1)
            XCTAssertEqual(ck_fp32_to_fp16(f), Float16(f).bitPattern, "\(f)")
        }
    }
}
