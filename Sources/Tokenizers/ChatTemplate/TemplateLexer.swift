/// One lexical token of a template: literal text between tags, tag delimiters, or a piece of an expression.
struct TemplateToken: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case text(String)
        case variableBegin, variableEnd, blockBegin, blockEnd
        case name(String)
        case string(String)
        case integer(Int)
        case float(Double)
        case op(String)
        case end
    }

    var kind: Kind
    var position: TemplateSourcePosition
}

/// Splits template source into tokens the way Jinja2's lexer does with the environment `transformers` uses:
/// `trim_blocks=True` (a newline right after a block or comment tag is dropped), `lstrip_blocks=True` (spaces and
/// tabs before a block or comment tag at the start of a line are dropped), `keep_trailing_newline=False`, and the
/// `-`/`+` whitespace-control markers. Byte-exact output depends on reproducing these rules exactly, so they follow
/// Jinja's regular expressions step by step rather than a simplified reading of the documentation.
struct TemplateLexer {
    private let source: [Unicode.Scalar]
    private let lineStarts: [Int]
    private var tokens: [TemplateToken] = []
    /// Jinja's `line_starting`: the previous match ended with a newline, so text at `pos` begins a line.
    private var lineStarting = true

    init(source text: String) {
        // Jinja normalizes every newline sequence to "\n" and drops one trailing newline before lexing.
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(text.unicodeScalars.count)
        var previousWasCR = false
        for scalar in text.unicodeScalars {
            if scalar == "\r" {
                scalars.append("\n")
                previousWasCR = true
                continue
            }
            if scalar == "\n" && previousWasCR {
                previousWasCR = false
                continue
            }
            previousWasCR = false
            scalars.append(scalar)
        }
        if scalars.last == "\n" { scalars.removeLast() }
        source = scalars
        var starts = [0]
        for (index, scalar) in scalars.enumerated() where scalar == "\n" { starts.append(index + 1) }
        lineStarts = starts
    }

    static func tokenize(_ text: String) throws -> [TemplateToken] {
        var lexer = TemplateLexer(source: text)
        try lexer.run()
        return lexer.tokens
    }

    // MARK: - Positions and helpers

    private func position(_ index: Int) -> TemplateSourcePosition {
        var low = 0
        var high = lineStarts.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if lineStarts[mid] <= index { low = mid } else { high = mid - 1 }
        }
        return TemplateSourcePosition(line: low + 1, column: index - lineStarts[low] + 1)
    }

    private func fail(_ message: String, at index: Int) -> ChatTemplateError {
        let position = position(index)
        return ChatTemplateError(kind: .syntax, line: position.line, column: position.column, message: message)
    }

    private func matches(_ literal: String, at index: Int) -> Bool {
        var cursor = index
        for scalar in literal.unicodeScalars {
            guard cursor < source.count, source[cursor] == scalar else { return false }
            cursor += 1
        }
        return true
    }

    private func skipWhitespace(from index: Int) -> Int {
        var cursor = index
        while cursor < source.count && PythonText.isWhitespace(source[cursor]) { cursor += 1 }
        return cursor
    }

    private mutating func emit(_ kind: TemplateToken.Kind, at index: Int) {
        tokens.append(TemplateToken(kind: kind, position: position(index)))
    }

    /// Text before a tag, after the tag's whitespace control: `-` strips all trailing whitespace; otherwise, for
    /// block and comment tags, `lstrip_blocks` removes whitespace between the last line start and the tag.
    private mutating func emitText(_ range: Range<Int>, sign: Unicode.Scalar?, lstripAllowed: Bool) {
        var text = Array(source[range])
        if sign == "-" {
            while let last = text.last, PythonText.isWhitespace(last) { text.removeLast() }
        } else if sign != "+" && lstripAllowed {
            let lineStart = (text.lastIndex(of: "\n").map { $0 + 1 }) ?? 0
            if (lineStart > 0 || lineStarting) && lineStart < text.count
                && text[lineStart...].allSatisfy(PythonText.isWhitespace)
            {
                text.removeSubrange(lineStart...)
            }
        }
        if !text.isEmpty { emit(.text(PythonText.string(text)), at: range.lowerBound) }
    }

    // MARK: - Template level

    private mutating func run() throws {
        var pos = 0
        while pos < source.count {
            guard let tagStart = nextTagStart(from: pos) else {
                emit(.text(PythonText.string(source[pos...])), at: pos)
                break
            }
            let opener = source[tagStart + 1]
            var after = tagStart + 2
            var sign: Unicode.Scalar?
            if after < source.count && (source[after] == "-" || source[after] == "+") {
                sign = source[after]
                after += 1
            }
            if opener == "%", let rawBodyStart = rawBegin(at: after) {
                emitText(pos..<tagStart, sign: sign, lstripAllowed: true)
                lineStarting = source[rawBodyStart - 1] == "\n"
                pos = try lexRaw(from: rawBodyStart, openedAt: tagStart)
                continue
            }
            emitText(pos..<tagStart, sign: sign, lstripAllowed: opener != "{")
            lineStarting = false
            switch opener {
            case "#":
                pos = try lexComment(from: after, openedAt: tagStart)
            case "%":
                emit(.blockBegin, at: tagStart)
                pos = try lexTag(from: after, openedAt: tagStart, isBlock: true)
            default:
                emit(.variableBegin, at: tagStart)
                pos = try lexTag(from: after, openedAt: tagStart, isBlock: false)
            }
        }
        emit(.end, at: source.count)
    }

    private func nextTagStart(from index: Int) -> Int? {
        var cursor = index
        while cursor + 1 < source.count {
            if source[cursor] == "{" {
                let next = source[cursor + 1]
                if next == "{" || next == "%" || next == "#" { return cursor }
            }
            cursor += 1
        }
        return nil
    }

    /// `{% raw %}` (the opening `{%` and sign already read): where the raw body starts, or nil if this is
    /// another tag. Jinja does not apply `trim_blocks` to the raw opener.
    private func rawBegin(at index: Int) -> Int? {
        var cursor = skipWhitespace(from: index)
        guard matches("raw", at: cursor) else { return nil }
        cursor = skipWhitespace(from: cursor + 3)
        if matches("-%}", at: cursor) { return skipWhitespace(from: cursor + 3) }
        if matches("%}", at: cursor) { return cursor + 2 }
        return nil
    }

    private mutating func lexRaw(from start: Int, openedAt: Int) throws -> Int {
        var cursor = start
        while let tagStart = nextTagStart(from: cursor) {
            cursor = tagStart + 1
            guard source[tagStart + 1] == "%" else { continue }
            var after = tagStart + 2
            var sign: Unicode.Scalar?
            if after < source.count && (source[after] == "-" || source[after] == "+") {
                sign = source[after]
                after += 1
            }
            var probe = skipWhitespace(from: after)
            guard matches("endraw", at: probe) else { continue }
            probe = skipWhitespace(from: probe + 6)
            let end: Int
            if matches("+%}", at: probe) {
                end = probe + 3
            } else if matches("-%}", at: probe) {
                end = skipWhitespace(from: probe + 3)
            } else if matches("%}", at: probe) {
                end = probe + 2 + (matches("\n", at: probe + 2) ? 1 : 0)
            } else {
                continue
            }
            emitText(start..<tagStart, sign: sign, lstripAllowed: true)
            lineStarting = source[end - 1] == "\n"
            return end
        }
        throw fail("missing end of raw directive", at: openedAt)
    }

    private mutating func lexComment(from start: Int, openedAt: Int) throws -> Int {
        var cursor = start
        while cursor + 1 < source.count {
            if source[cursor] == "#" && source[cursor + 1] == "}" {
                var end = cursor + 2
                let marker: Unicode.Scalar? = cursor - 1 >= start ? source[cursor - 1] : nil
                if marker == "-" {
                    end = skipWhitespace(from: end)
                } else if marker != "+" && matches("\n", at: end) {
                    end += 1
                }
                lineStarting = source[end - 1] == "\n"
                return end
            }
            cursor += 1
        }
        throw fail("missing end of comment tag", at: openedAt)
    }

    // MARK: - Inside {{ }} and {% %}

    /// Lexes expression tokens up to the closing delimiter; returns the index after it (and after any whitespace
    /// its control marker consumes). Closing delimiters only count while brackets are balanced, as in Jinja, so
    /// `{{ {'a': 1}}}` works.
    private mutating func lexTag(from start: Int, openedAt: Int, isBlock: Bool) throws -> Int {
        var cursor = start
        var brackets: [(scalar: Unicode.Scalar, index: Int)] = []
        while cursor < source.count {
            if brackets.isEmpty, let end = closing(at: cursor, isBlock: isBlock) {
                emit(isBlock ? .blockEnd : .variableEnd, at: cursor)
                lineStarting = source[end - 1] == "\n"
                return end
            }
            let scalar = source[cursor]
            if PythonText.isWhitespace(scalar) {
                cursor += 1
                continue
            }
            if let (kind, next) = try number(at: cursor) {
                emit(kind, at: cursor)
                cursor = next
                continue
            }
            if scalar == "_" || scalar.properties.isAlphabetic {
                var next = cursor + 1
                while next < source.count
                    && (source[next] == "_" || source[next].properties.isAlphabetic
                        || source[next].properties.numericType != nil)
                {
                    next += 1
                }
                emit(.name(PythonText.string(source[cursor..<next])), at: cursor)
                cursor = next
                continue
            }
            if scalar == "'" || scalar == "\"" {
                let (value, next) = try string(at: cursor)
                emit(.string(value), at: cursor)
                cursor = next
                continue
            }
            guard let op = self.op(at: cursor) else {
                throw fail("unexpected char \(PythonText.repr(String(scalar)))", at: cursor)
            }
            switch op {
            case "(", "[", "{":
                brackets.append((op.unicodeScalars.first!, cursor))
            case ")", "]", "}":
                guard let open = brackets.popLast() else { throw fail("unexpected '\(op)'", at: cursor) }
                let expected: String = open.scalar == "(" ? ")" : open.scalar == "[" ? "]" : "}"
                if expected != op { throw fail("unexpected '\(op)', expected '\(expected)'", at: cursor) }
            default:
                break
            }
            emit(.op(op), at: cursor)
            cursor += op.unicodeScalars.count
        }
        if let open = brackets.last { throw fail("unclosed '\(open.scalar)'", at: open.index) }
        throw fail(isBlock ? "unclosed '{%' tag" : "unclosed '{{' tag", at: openedAt)
    }

    /// The end of a closing delimiter starting at `index`, if there is one.
    private func closing(at index: Int, isBlock: Bool) -> Int? {
        if isBlock {
            if matches("+%}", at: index) { return index + 3 }
            if matches("-%}", at: index) { return skipWhitespace(from: index + 3) }
            if matches("%}", at: index) { return index + 2 + (matches("\n", at: index + 2) ? 1 : 0) }
            return nil
        }
        if matches("-}}", at: index) { return skipWhitespace(from: index + 3) }
        if matches("}}", at: index) { return index + 2 }
        return nil
    }

    private static let operators = [
        "//", "**", "==", "!=", ">=", "<=",
        "+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}", ">", "<", "=", ".", ":", "|", ",", ";",
    ]

    private func op(at index: Int) -> String? {
        TemplateLexer.operators.first { matches($0, at: index) }
    }

    private func isDigit(_ index: Int, radix: Int = 10) -> Bool {
        guard index < source.count, source[index].isASCII else { return false }
        return Int(String(source[index]), radix: radix) != nil
    }

    /// Digits with single underscores between them (`1_000`), as Jinja's `(\d+_)*\d+`; returns the end index.
    private func digitRun(at index: Int) -> Int? {
        guard isDigit(index) else { return nil }
        var cursor = index
        while true {
            while isDigit(cursor) { cursor += 1 }
            if cursor < source.count && source[cursor] == "_" && isDigit(cursor + 1) {
                cursor += 1
                continue
            }
            return cursor
        }
    }

    /// Jinja's float rule, then its integer rule (with `0b`/`0o`/`0x` prefixes).
    private func number(at index: Int) throws -> (TemplateToken.Kind, Int)? {
        guard isDigit(index) else { return nil }
        if index == 0 || source[index - 1] != "." {
            if let floatEnd = floatEnd(at: index) {
                let text = PythonText.replace(PythonText.string(source[index..<floatEnd]), "_", "")
                guard let value = Double(text) else { throw fail("invalid float literal", at: index) }
                return (.float(value), floatEnd)
            }
        }
        let lowerNext = index + 1 < source.count ? String(source[index + 1]).lowercased() : ""
        if source[index] == "0", ["b", "o", "x"].contains(lowerNext) {
            let radix = lowerNext == "b" ? 2 : lowerNext == "o" ? 8 : 16
            var cursor = index + 2
            var digits = ""
            while cursor < source.count {
                if source[cursor] == "_" && isDigit(cursor + 1, radix: radix) {
                    cursor += 1
                } else if isDigit(cursor, radix: radix) {
                    digits.unicodeScalars.append(source[cursor])
                    cursor += 1
                } else {
                    break
                }
            }
            if !digits.isEmpty {
                guard let value = Int(digits, radix: radix) else { throw fail("integer literal too large", at: index) }
                return (.integer(value), cursor)
            }
        }
        if source[index] == "0" {
            // `0(_?0)*`: a leading zero only continues with more zeros.
            var cursor = index + 1
            while cursor < source.count {
                if source[cursor] == "0" { cursor += 1 } else if source[cursor] == "_" && matches("0", at: cursor + 1) {
                    cursor += 2
                } else {
                    break
                }
            }
            return (.integer(0), cursor)
        }
        let end = digitRun(at: index)!
        let text = PythonText.replace(PythonText.string(source[index..<end]), "_", "")
        guard let value = Int(text) else { throw fail("integer literal too large", at: index) }
        return (.integer(value), end)
    }

    private func floatEnd(at index: Int) -> Int? {
        guard let integerEnd = digitRun(at: index) else { return nil }
        var cursor = integerEnd
        var hasFraction = false
        if cursor < source.count && source[cursor] == ".", let fractionEnd = digitRun(at: cursor + 1) {
            cursor = fractionEnd
            hasFraction = true
        }
        if cursor < source.count && (source[cursor] == "e" || source[cursor] == "E") {
            var exponent = cursor + 1
            if exponent < source.count && (source[exponent] == "+" || source[exponent] == "-") { exponent += 1 }
            if let exponentEnd = digitRun(at: exponent) { return exponentEnd }
        }
        return hasFraction ? cursor : nil
    }

    /// A quoted string literal, decoded the way Jinja decodes it (Python's `unicode-escape` codec).
    private func string(at index: Int) throws -> (String, Int) {
        let quote = source[index]
        var cursor = index + 1
        var body: [Unicode.Scalar] = []
        while cursor < source.count {
            let scalar = source[cursor]
            if scalar == quote {
                return (try decodeEscapes(body, at: index), cursor + 1)
            }
            if scalar == "\\" && cursor + 1 < source.count {
                body.append(scalar)
                body.append(source[cursor + 1])
                cursor += 2
                continue
            }
            body.append(scalar)
            cursor += 1
        }
        throw fail("unexpected char \(PythonText.repr(String(quote)))", at: index)
    }

    private func decodeEscapes(_ body: [Unicode.Scalar], at index: Int) throws -> String {
        var result: [Unicode.Scalar] = []
        var pendingHighSurrogate: UInt32?
        func append(_ value: UInt32) {
            if let high = pendingHighSurrogate {
                pendingHighSurrogate = nil
                if (0xDC00...0xDFFF).contains(value) {
                    result.append(Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (value - 0xDC00))!)
                    return
                }
                result.append("\u{FFFD}")
            }
            if (0xD800...0xDBFF).contains(value) {
                pendingHighSurrogate = value
            } else {
                result.append(Unicode.Scalar(value) ?? "\u{FFFD}")
            }
        }
        var cursor = 0
        while cursor < body.count {
            let scalar = body[cursor]
            guard scalar == "\\", cursor + 1 < body.count else {
                append(scalar.value)
                cursor += 1
                continue
            }
            let escape = body[cursor + 1]
            cursor += 2
            switch escape {
            case "\n": break
            case "\\", "'", "\"": append(escape.value)
            case "a": append(0x07)
            case "b": append(0x08)
            case "f": append(0x0C)
            case "n": append(0x0A)
            case "r": append(0x0D)
            case "t": append(0x09)
            case "v": append(0x0B)
            case "0"..."7":
                var value = escape.value - 0x30
                var digits = 1
                while digits < 3 && cursor < body.count && ("0"..."7").contains(body[cursor]) {
                    value = value * 8 + body[cursor].value - 0x30
                    cursor += 1
                    digits += 1
                }
                append(value)
            case "x", "u", "U":
                let width = escape == "x" ? 2 : escape == "u" ? 4 : 8
                guard cursor + width <= body.count,
                    let value = UInt32(PythonText.string(body[cursor..<cursor + width]), radix: 16),
                    body[cursor..<cursor + width].allSatisfy({ $0.isASCII && $0.properties.isASCIIHexDigit }),
                    value <= 0x10FFFF
                else {
                    throw fail("invalid \\\(escape) escape in string literal", at: index)
                }
                append(value)
                cursor += width
            default:
                // Python keeps unknown escapes as they are, backslash included.
                append(0x5C)
                append(escape.value)
            }
        }
        if pendingHighSurrogate != nil { result.append("\u{FFFD}") }
        return PythonText.string(result)
    }
}
