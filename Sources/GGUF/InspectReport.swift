/// Human-readable report for `swiftllm inspect`.
///
/// Header (path, version, alignment, counts, file size, data offset), every metadata key
/// with its type and value, the tensor table (name, type, shape, bytes) and totals
/// (parameters, bytes by type). Arrays longer than `maxArrayItems` show their first items
/// and a count: `[array of 49152 string: "a", "b", ... ]`. Strings are quoted with control
/// characters escaped, so every key stays on one line.
public func inspectReport(_ file: GGUFFile, maxArrayItems: Int = 8) -> String {
    var lines: [String] = []
    lines.append("GGUF file \(file.path)")
    lines.append("  version \(file.version), alignment \(file.alignment), "
                 + "\(file.metadataKeys.count) metadata keys, \(file.tensors.count) tensors")
    lines.append("  file size \(formatBytes(file.fileSize)), data section at offset \(file.dataOffset)")

    lines.append("")
    lines.append("Metadata:")
    let keyWidth = file.metadataKeys.map(\.count).max() ?? 0
    let typeNames = file.metadataKeys.map { key in file.metadata[key].map(typeName) ?? "?" }
    let typeWidth = typeNames.map(\.count).max() ?? 0
    for (key, type) in zip(file.metadataKeys, typeNames) {
        let value = file.metadata[key].map { formatValue($0, maxArrayItems: max(0, maxArrayItems)) } ?? ""
        lines.append("  " + pad(key, keyWidth) + "  " + pad(type, typeWidth) + "  " + value)
    }

    lines.append("")
    lines.append("Tensors:")
    let shapes = file.tensors.map { "\($0.shape)" }
    let nameWidth = max(4, file.tensors.map(\.name.count).max() ?? 0)
    let tensorTypeWidth = max(4, file.tensors.map { "\($0.type)".count }.max() ?? 0)
    let shapeWidth = max(5, shapes.map(\.count).max() ?? 0)
    lines.append("  " + pad("name", nameWidth) + "  " + pad("type", tensorTypeWidth) + "  "
                 + pad("shape", shapeWidth) + "  bytes")
    for (tensor, shape) in zip(file.tensors, shapes) {
        lines.append("  " + pad(tensor.name, nameWidth) + "  " + pad("\(tensor.type)", tensorTypeWidth) + "  "
                     + pad(shape, shapeWidth) + "  \(tensor.byteCount)")
    }

    // Totals per type, in order of first appearance.
    var typeOrder: [GGMLType] = []
    var perType: [GGMLType: (tensors: Int, parameters: Int, bytes: Int)] = [:]
    for tensor in file.tensors {
        if perType[tensor.type] == nil { typeOrder.append(tensor.type) }
        let old = perType[tensor.type] ?? (0, 0, 0)
        perType[tensor.type] = (old.tensors + 1, old.parameters + tensor.elementCount, old.bytes + tensor.byteCount)
    }
    let parameters = file.tensors.reduce(0) { $0 + $1.elementCount }
    let bytes = file.tensors.reduce(0) { $0 + $1.byteCount }
    lines.append("")
    lines.append("Totals:")
    lines.append("  \(parameters) parameters, \(formatBytes(bytes)) of tensor data in \(file.tensors.count) tensors")
    for type in typeOrder {
        let t = perType[type]!
        lines.append("  \(pad("\(type)", tensorTypeWidth))  \(t.tensors) tensor\(t.tensors == 1 ? "" : "s"), \(t.parameters) parameters, \(formatBytes(t.bytes))")
    }
    return lines.joined(separator: "\n") + "\n"
}

/// "u32", "string", "array[string]", "array[array[i32]]".
private func typeName(_ value: GGUFValue) -> String {
    guard case .array(let items) = value else { return "\(value.type)" }
    guard let first = items.first else { return "array" }
    return "array[\(typeName(first))]"
}

private func formatValue(_ value: GGUFValue, maxArrayItems: Int) -> String {
    switch value {
    case .uint8(let v): return "\(v)"
    case .int8(let v): return "\(v)"
    case .uint16(let v): return "\(v)"
    case .int16(let v): return "\(v)"
    case .uint32(let v): return "\(v)"
    case .int32(let v): return "\(v)"
    case .uint64(let v): return "\(v)"
    case .int64(let v): return "\(v)"
    case .float32(let v): return "\(v)"
    case .float64(let v): return "\(v)"
    case .bool(let v): return "\(v)"
    case .string(let v): return quote(v)
    case .array(let items):
        guard let first = items.first else { return "[array of 0]" }
        let shown = items.prefix(maxArrayItems).map { formatValue($0, maxArrayItems: maxArrayItems) }
        let more = items.count > maxArrayItems ? (shown.isEmpty ? " ... ]" : ", ... ]") : "]"
        return "[array of \(items.count) \(first.type): " + shown.joined(separator: ", ") + more
    }
}

/// Double-quoted with backslash escapes for quotes, backslashes and control characters.
private func quote(_ string: String) -> String {
    var out = "\""
    for scalar in string.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7F {
                out += "\\u{" + String(scalar.value, radix: 16) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
}

private func pad(_ string: String, _ width: Int) -> String {
    string.count >= width ? string : string + String(repeating: " ", count: width - string.count)
}

/// "98362432 bytes (93.81 MiB)".
private func formatBytes(_ bytes: Int) -> String {
    let hundredths = Int((Double(bytes) / 1_048_576 * 100).rounded())
    let fraction = hundredths % 100
    return "\(bytes) bytes (\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction) MiB)"
}
