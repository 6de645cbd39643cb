import CKernels
import GGUF

/// The instruction set the kernels dispatch to, detected at run time.
public enum CPUFeatures {
    public enum ISA: Int32, Sendable, CaseIterable, CustomStringConvertible {
        case scalar = 0, avx2 = 1, avx512 = 2
        public var description: String { String(cString: ck_isa_name(rawValue)) }
    }

    /// The instruction set in use.
    public static var isa: ISA { ISA(rawValue: ck_cpu_isa()) ?? .scalar }

    /// Caps the instruction set (for tests and A/B benchmarks); returns the one in effect.
    @discardableResult
    public static func limit(to isa: ISA) -> ISA { ISA(rawValue: ck_set_isa(isa.rawValue)) ?? .scalar }

    /// Weight formats the kernels can dequantize and multiply.
    public static var supportedTypes: [GGMLType] {
        GGMLType.allCases.filter { ck_type_supported(Int32($0.rawValue)) != 0 }
    }

    public static func supports(_ type: GGMLType) -> Bool { ck_type_supported(Int32(type.rawValue)) != 0 }
}
