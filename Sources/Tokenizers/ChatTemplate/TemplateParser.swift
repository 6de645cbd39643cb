/// Builds the syntax tree from tokens with Jinja2's grammar: the same operator precedence (including its
/// left-associative `**`), the same places where a bare tuple is allowed, and the same rule that `for ... in` and
/// `if` headers do not take a conditional expression, so `for x in xs if cond` filters the loop.
struct TemplateParser {
    private var tokens: [TemplateToken]
    private var index = 0
    private var loopDepth = 0
    /// Nesting of statements and expressions; bounded so a hostile template cannot exhaust the stack.
    private var depth = 0
    static let maxDepth = 200

    private init(tokens: [TemplateToken]) { self.tokens = tokens }

    static func parse(_ source: String) throws -> [TemplateNode] {
        var parser = TemplateParser(tokens: try TemplateLexer.tokenize(source))
        let (body, _) = try parser.parseBody(until: [])
        try TemplateValidator.validate(body)
        return body
    }

    // MARK: - Token helpers

    private var current: TemplateToken { tokens[index] }

    private func peek(_ offset: Int = 1) -> TemplateToken {
        tokens[min(index + offset, tokens.count - 1)]
    }

    private mutating func advance() -> TemplateToken {
        let token = tokens[index]
        if index < tokens.count - 1 { index += 1 }
        return token
    }

    private func isName(_ name: String, _ token: TemplateToken? = nil) -> Bool {
        if case .name(let value) = (token ?? current).kind { return value == name }
        return false
    }

    private func isOp(_ op: String, _ token: TemplateToken? = nil) -> Bool {
        if case .op(let value) = (token ?? current).kind { return value == op }
        return false
    }

    private mutating func skipName(_ name: String) -> Bool {
        guard isName(name) else { return false }
        _ = advance()
        return true
    }

    private mutating func skipOp(_ op: String) -> Bool {
        guard isOp(op) else { return false }
        _ = advance()
        return true
    }

    private func fail(_ message: String, _ token: TemplateToken? = nil) -> ChatTemplateError {
        let position = (token ?? current).position
        return ChatTemplateError(kind: .syntax, line: position.line, column: position.column, message: message)
    }

    private func describe(_ token: TemplateToken) -> String {
        switch token.kind {
        case .text: return "template data"
        case .variableBegin: return "'{{'"
        case .variableEnd: return "end of print statement"
        case .blockBegin: return "'{%'"
        case .blockEnd: return "end of statement block"
        case .name(let name): return "'\(name)'"
        case .string(let value): return "string \(PythonText.repr(value))"
        case .integer(let value): return "'\(value)'"
        case .float(let value): return "'\(value)'"
        case .op(let op): return "'\(op)'"
        case .end: return "end of template"
        }
    }

    private mutating func expectOp(_ op: String) throws {
        guard skipOp(op) else { throw fail("expected '\(op)', got \(describe(current))") }
    }

    private mutating func expectName() throws -> String {
        guard case .name(let name) = current.kind else { throw fail("expected a name, got \(describe(current))") }
        _ = advance()
        return name
    }

    private mutating func expectBlockEnd() throws {
        guard current.kind == .blockEnd else {
            throw fail("expected end of statement block, got \(describe(current))")
        }
        _ = advance()
    }

    // MARK: - Template structure

    /// Parses nodes until a `{% name %}` with `name` in `endNames`; consumes `{%` and the name and returns it.
    private mutating func parseBody(until endNames: Set<String>) throws -> ([TemplateNode], String?) {
        var nodes: [TemplateNode] = []
        while true {
            let token = current
            switch token.kind {
            case .text(let text):
                _ = advance()
                nodes.append(.text(text))
            case .variableBegin:
                _ = advance()
                let expression = try parseTuple(withCondition: true)
                guard current.kind == .variableEnd else {
                    throw fail("expected end of print statement, got \(describe(current))")
                }
                _ = advance()
                nodes.append(.output(expression))
            case .blockBegin:
                if case .name(let name) = peek().kind, endNames.contains(name) {
                    _ = advance()
                    _ = advance()
                    return (nodes, name)
                }
                _ = advance()
                nodes.append(try parseStatement())
            case .end:
                if !endNames.isEmpty {
                    let expected = endNames.sorted().map { "'\($0)'" }.joined(separator: " or ")
                    throw fail("unexpected end of template, expected \(expected)")
                }
                return (nodes, nil)
            default:
                throw fail("unexpected \(describe(token))")
            }
        }
    }

    private mutating func enter() throws {
        depth += 1
        if depth > TemplateParser.maxDepth { throw fail("template nested too deeply (limit \(TemplateParser.maxDepth))") }
    }

    private mutating func parseStatement() throws -> TemplateNode {
        try enter()
        defer { depth -= 1 }
        let token = current
        guard case .name(let tag) = token.kind else { throw fail("tag name expected, got \(describe(token))") }
        _ = advance()
        switch tag {
        case "for": return try parseFor(token)
        case "if": return try parseIf()
        case "set": return try parseSet(token)
        case "macro": return .macro(try parseMacro(token))
        case "call": return try parseCallBlock(token)
        case "filter": return try parseFilterBlock(token)
        case "with": return try parseWith()
        case "print":
            let expression = try parseTuple(withCondition: true)
            try expectBlockEnd()
            return .output(expression)
        case "break", "continue":
            if loopDepth == 0 { throw fail("'\(tag)' outside of a loop", token) }
            try expectBlockEnd()
            return .loopControl(isBreak: tag == "break", token.position)
        case "generation", "autoescape":
            if tag == "autoescape" { _ = try parseExpression() }
            try expectBlockEnd()
            let (body, _) = try parseBody(until: ["end" + tag])
            try expectBlockEnd()
            return .scope(body)
        case "block", "extends", "include", "import", "from":
            throw fail("unsupported tag '\(tag)': chat templates cannot load other templates", token)
        default:
            throw fail("unknown tag '\(tag)'", token)
        }
    }

    private mutating func parseFor(_ token: TemplateToken) throws -> TemplateNode {
        let target = try parseAssignTarget(extraEnd: ["in"])
        guard skipName("in") else { throw fail("expected 'in', got \(describe(current))") }
        let iterable = try parseTuple(withCondition: false, extraEnd: ["recursive"])
        var condition: TemplateExpression?
        if skipName("if") { condition = try parseExpression() }
        if isName("recursive") { throw fail("recursive loops are not supported") }
        try expectBlockEnd()
        loopDepth += 1
        let (body, end) = try parseBody(until: ["endfor", "else"])
        loopDepth -= 1
        try expectBlockEnd()
        var elseBody: [TemplateNode] = []
        if end == "else" {
            (elseBody, _) = try parseBody(until: ["endfor"])
            try expectBlockEnd()
        }
        return .forLoop(TemplateForLoop(target: target, iterable: iterable, condition: condition, body: body,
                                elseBody: elseBody, position: token.position))
    }

    private mutating func parseIf() throws -> TemplateNode {
        var branches: [TemplateBranch] = []
        var otherwise: [TemplateNode] = []
        while true {
            let test = try parseTuple(withCondition: false)
            try expectBlockEnd()
            let (body, end) = try parseBody(until: ["elif", "else", "endif"])
            branches.append(TemplateBranch(test: test, body: body))
            if end == "elif" { continue }
            if end == "else" {
                try expectBlockEnd()
                (otherwise, _) = try parseBody(until: ["endif"])
            }
            try expectBlockEnd()
            return .conditional(branches, otherwise: otherwise)
        }
    }

    private mutating func parseSet(_ token: TemplateToken) throws -> TemplateNode {
        let target = try parseAssignTarget(withNamespace: true)
        if skipOp("=") {
            let value = try parseTuple(withCondition: true)
            try expectBlockEnd()
            return .assign(target, value, token.position)
        }
        let filters = try parseFilterChain(startInline: false)
        try expectBlockEnd()
        let (body, _) = try parseBody(until: ["endset"])
        try expectBlockEnd()
        return .assignBlock(target, filters: filters, body: body, token.position)
    }

    private mutating func parseMacro(_ token: TemplateToken) throws -> TemplateMacro {
        let name = try expectName()
        let parameters = try parseSignature()
        try expectBlockEnd()
        let savedDepth = loopDepth
        loopDepth = 0
        let (body, _) = try parseBody(until: ["endmacro"])
        loopDepth = savedDepth
        try expectBlockEnd()
        return TemplateMacro(name: name, parameters: parameters, body: body, position: token.position)
    }

    private mutating func parseSignature() throws -> [TemplateMacroParameter] {
        try expectOp("(")
        var parameters: [TemplateMacroParameter] = []
        while !isOp(")") {
            if !parameters.isEmpty { try expectOp(",") }
            if isOp(")") { break }
            let name = try expectName()
            var defaultValue: TemplateExpression?
            if skipOp("=") {
                defaultValue = try parseExpression()
            } else if parameters.contains(where: { $0.defaultValue != nil }) {
                throw fail("non-default argument follows default argument")
            }
            parameters.append(TemplateMacroParameter(name: name, defaultValue: defaultValue))
        }
        try expectOp(")")
        return parameters
    }

    private mutating func parseCallBlock(_ token: TemplateToken) throws -> TemplateNode {
        let parameters = isOp("(") ? try parseSignature() : []
        let call = try parseExpression()
        guard case .call = call.kind else { throw fail("expected call", token) }
        try expectBlockEnd()
        let savedDepth = loopDepth
        loopDepth = 0
        let (body, _) = try parseBody(until: ["endcall"])
        loopDepth = savedDepth
        try expectBlockEnd()
        let caller = TemplateMacro(name: "caller", parameters: parameters, body: body, position: token.position)
        return .callBlock(call: call, caller: caller)
    }

    private mutating func parseFilterBlock(_ token: TemplateToken) throws -> TemplateNode {
        let filters = try parseFilterChain(startInline: true)
        try expectBlockEnd()
        let (body, _) = try parseBody(until: ["endfilter"])
        try expectBlockEnd()
        return .filterBlock(filters: filters, body: body, token.position)
    }

    private mutating func parseWith() throws -> TemplateNode {
        var assignments: [TemplateWithAssignment] = []
        while current.kind != .blockEnd {
            if !assignments.isEmpty { try expectOp(",") }
            let target = try parseAssignTarget()
            try expectOp("=")
            assignments.append(TemplateWithAssignment(target: target, value: try parseExpression()))
        }
        try expectBlockEnd()
        let (body, _) = try parseBody(until: ["endwith"])
        try expectBlockEnd()
        return .with(assignments, body: body)
    }

    private mutating func parseAssignTarget(withNamespace: Bool = false, extraEnd: Set<String> = []) throws
        -> TemplateAssignTarget
    {
        if withNamespace, case .name(let name) = current.kind, isOp(".", peek()) {
            _ = advance()
            _ = advance()
            return .namespaceAttribute(name, try expectName())
        }
        let token = current
        let expression = try parseTuple(simplified: true, withCondition: true, extraEnd: extraEnd)
        return try assignTarget(expression, token)
    }

    private func assignTarget(_ expression: TemplateExpression, _ token: TemplateToken) throws -> TemplateAssignTarget {
        switch expression.kind {
        case .name(let name):
            if ["true", "false", "none", "True", "False", "None"].contains(name) {
                throw fail("can't assign to '\(name)'", token)
            }
            return .name(name)
        case .tuple(let items):
            return .tuple(try items.map { try assignTarget($0, token) })
        default:
            throw fail("can't assign to this expression", token)
        }
    }

    // MARK: - Expressions

    private func isTupleEnd(_ extraEnd: Set<String>) -> Bool {
        switch current.kind {
        case .variableEnd, .blockEnd, .end: return true
        case .op(")"): return true
        case .name(let name): return extraEnd.contains(name)
        default: return false
        }
    }

    /// Jinja's `parse_tuple`: one expression, or a tuple when commas follow.
    private mutating func parseTuple(
        simplified: Bool = false, withCondition: Bool = true, extraEnd: Set<String> = [],
        explicitParentheses: Bool = false
    ) throws -> TemplateExpression {
        let start = current
        var items: [TemplateExpression] = []
        var isTuple = false
        while true {
            if !items.isEmpty { try expectOp(",") }
            if isTupleEnd(extraEnd) { break }
            if simplified {
                items.append(try parsePrimary())
            } else {
                items.append(withCondition ? try parseExpression() : try parseOr())
            }
            if isOp(",") { isTuple = true } else { break }
        }
        if !isTuple {
            if let only = items.first { return only }
            if !explicitParentheses { throw fail("expected an expression, got \(describe(current))") }
        }
        return TemplateExpression(kind: .tuple(items), position: start.position)
    }

    private mutating func parseExpression() throws -> TemplateExpression {
        var expression = try parseOr()
        while isName("if") {
            let token = advance()
            let test = try parseOr()
            var otherwise: TemplateExpression?
            if skipName("else") { otherwise = try parseExpression() }
            expression = TemplateExpression(kind: .conditional(test: test, then: expression, otherwise: otherwise),
                                    position: token.position)
        }
        return expression
    }

    private mutating func parseOr() throws -> TemplateExpression {
        var left = try parseAnd()
        while isName("or") {
            let token = advance()
            left = TemplateExpression(kind: .or(left, try parseAnd()), position: token.position)
        }
        return left
    }

    private mutating func parseAnd() throws -> TemplateExpression {
        var left = try parseNot()
        while isName("and") {
            let token = advance()
            left = TemplateExpression(kind: .and(left, try parseNot()), position: token.position)
        }
        return left
    }

    private mutating func parseNot() throws -> TemplateExpression {
        if isName("not") {
            let token = advance()
            return TemplateExpression(kind: .not(try parseNot()), position: token.position)
        }
        return try parseCompare()
    }

    private mutating func parseCompare() throws -> TemplateExpression {
        let start = current
        let left = try parseMath1()
        var comparisons: [TemplateComparison] = []
        while true {
            if case .op(let op) = current.kind, let compare = TemplateCompareOperator(rawValue: op), op != "in" {
                _ = advance()
                comparisons.append(TemplateComparison(op: compare, operand: try parseMath1()))
            } else if skipName("in") {
                comparisons.append(TemplateComparison(op: .contains, operand: try parseMath1()))
            } else if isName("not") && isName("in", peek()) {
                _ = advance()
                _ = advance()
                comparisons.append(TemplateComparison(op: .notContains, operand: try parseMath1()))
            } else {
                break
            }
        }
        if comparisons.isEmpty { return left }
        return TemplateExpression(kind: .compare(left, comparisons), position: start.position)
    }

    private mutating func parseMath1() throws -> TemplateExpression {
        var left = try parseConcat()
        while isOp("+") || isOp("-") {
            let token = advance()
            let op: TemplateBinaryOperator = isOp("+", token) ? .add : .subtract
            left = TemplateExpression(kind: .binary(op, left, try parseConcat()), position: token.position)
        }
        return left
    }

    private mutating func parseConcat() throws -> TemplateExpression {
        let start = current
        var items = [try parseMath2()]
        while skipOp("~") { items.append(try parseMath2()) }
        if items.count == 1 { return items[0] }
        return TemplateExpression(kind: .concat(items), position: start.position)
    }

    private mutating func parseMath2() throws -> TemplateExpression {
        var left = try parsePower()
        while true {
            guard case .op(let symbol) = current.kind, ["*", "/", "//", "%"].contains(symbol) else { break }
            let token = advance()
            left = TemplateExpression(kind: .binary(TemplateBinaryOperator(rawValue: symbol)!, left, try parsePower()),
                              position: token.position)
        }
        return left
    }

    private mutating func parsePower() throws -> TemplateExpression {
        var left = try parseUnary()
        while isOp("**") {
            let token = advance()
            left = TemplateExpression(kind: .binary(.power, left, try parseUnary()), position: token.position)
        }
        return left
    }

    private mutating func parseUnary(withFilter: Bool = true) throws -> TemplateExpression {
        try enter()
        defer { depth -= 1 }
        var expression: TemplateExpression
        if isOp("-") {
            let token = advance()
            expression = TemplateExpression(kind: .negate(try parseUnary(withFilter: false)), position: token.position)
        } else if isOp("+") {
            let token = advance()
            expression = TemplateExpression(kind: .plus(try parseUnary(withFilter: false)), position: token.position)
        } else {
            expression = try parsePrimary()
        }
        expression = try parsePostfix(expression)
        if withFilter { expression = try parseFilterExpression(expression) }
        return expression
    }

    private mutating func parsePrimary() throws -> TemplateExpression {
        let token = current
        switch token.kind {
        case .name(let name):
            _ = advance()
            switch name {
            case "true", "True": return TemplateExpression(kind: .literal(.bool(true)), position: token.position)
            case "false", "False": return TemplateExpression(kind: .literal(.bool(false)), position: token.position)
            case "none", "None": return TemplateExpression(kind: .literal(.none), position: token.position)
            default: return TemplateExpression(kind: .name(name), position: token.position)
            }
        case .string(var value):
            _ = advance()
            while case .string(let next) = current.kind {
                value += next
                _ = advance()
            }
            return TemplateExpression(kind: .literal(.string(value)), position: token.position)
        case .integer(let value):
            _ = advance()
            return TemplateExpression(kind: .literal(.int(value)), position: token.position)
        case .float(let value):
            _ = advance()
            return TemplateExpression(kind: .literal(.double(value)), position: token.position)
        case .op("("):
            _ = advance()
            let expression = try parseTuple(explicitParentheses: true)
            try expectOp(")")
            return expression
        case .op("["):
            _ = advance()
            var items: [TemplateExpression] = []
            while !isOp("]") {
                if !items.isEmpty { try expectOp(",") }
                if isOp("]") { break }
                items.append(try parseExpression())
            }
            try expectOp("]")
            return TemplateExpression(kind: .list(items), position: token.position)
        case .op("{"):
            _ = advance()
            var entries: [TemplateDictionaryEntry] = []
            while !isOp("}") {
                if !entries.isEmpty { try expectOp(",") }
                if isOp("}") { break }
                let key = try parseExpression()
                try expectOp(":")
                entries.append(TemplateDictionaryEntry(key: key, value: try parseExpression()))
            }
            try expectOp("}")
            return TemplateExpression(kind: .dictionary(entries), position: token.position)
        default:
            throw fail("unexpected \(describe(token))")
        }
    }

    private mutating func parsePostfix(_ base: TemplateExpression) throws -> TemplateExpression {
        var expression = base
        while true {
            if isOp(".") || isOp("[") {
                expression = try parseSubscript(expression)
            } else if isOp("(") {
                let token = current
                expression = TemplateExpression(kind: .call(expression, try parseCallArguments()), position: token.position)
            } else {
                return expression
            }
        }
    }

    private mutating func parseFilterExpression(_ base: TemplateExpression) throws -> TemplateExpression {
        var expression = base
        while true {
            if isOp("|") {
                for filter in try parseFilterChain(startInline: false) {
                    expression = TemplateExpression(kind: .filter(expression, filter), position: filter.position)
                }
            } else if isName("is") {
                expression = try parseTest(expression)
            } else if isOp("(") {
                let token = current
                expression = TemplateExpression(kind: .call(expression, try parseCallArguments()), position: token.position)
            } else {
                return expression
            }
        }
    }

    private mutating func parseSubscript(_ base: TemplateExpression) throws -> TemplateExpression {
        let token = advance()
        if isOp(".", token) {
            let attributeToken = current
            switch attributeToken.kind {
            case .name(let name):
                _ = advance()
                return TemplateExpression(kind: .attribute(base, name), position: attributeToken.position)
            case .integer(let value):
                _ = advance()
                let key = TemplateExpression(kind: .literal(.int(value)), position: attributeToken.position)
                return TemplateExpression(kind: .item(base, key), position: attributeToken.position)
            default:
                throw fail("expected name or number after '.'")
            }
        }
        var arguments: [TemplateExpression] = []
        while !isOp("]") {
            if !arguments.isEmpty { try expectOp(",") }
            arguments.append(try parseSubscribed(base: base))
        }
        try expectOp("]")
        if arguments.count == 1 {
            if case .slice = arguments[0].kind { return arguments[0] }
            return TemplateExpression(kind: .item(base, arguments[0]), position: token.position)
        }
        return TemplateExpression(kind: .item(base, TemplateExpression(kind: .tuple(arguments), position: token.position)),
                          position: token.position)
    }

    /// One subscript argument: an expression or a `start:stop:step` slice (returned already applied to `base`).
    private mutating func parseSubscribed(base: TemplateExpression) throws -> TemplateExpression {
        let token = current
        var start: TemplateExpression?
        if !isOp(":") {
            let expression = try parseExpression()
            if !isOp(":") { return expression }
            start = expression
        }
        _ = advance()
        var stop: TemplateExpression?
        if !isOp(":") && !isOp("]") && !isOp(",") { stop = try parseExpression() }
        var step: TemplateExpression?
        if skipOp(":") && !isOp("]") && !isOp(",") { step = try parseExpression() }
        return TemplateExpression(kind: .slice(base, start: start, stop: stop, step: step), position: token.position)
    }

    private mutating func parseCallArguments() throws -> TemplateArguments {
        try expectOp("(")
        var arguments = TemplateArguments()
        while !isOp(")") {
            if !arguments.positional.isEmpty || !arguments.keyword.isEmpty { try expectOp(",") }
            if isOp(")") { break }
            if isOp("*") || isOp("**") { throw fail("'*' and '**' arguments are not supported") }
            if case .name(let name) = current.kind, isOp("=", peek()) {
                _ = advance()
                _ = advance()
                arguments.keyword.append(TemplateKeywordArgument(name: name, value: try parseExpression()))
            } else {
                if !arguments.keyword.isEmpty { throw fail("positional argument follows keyword argument") }
                arguments.positional.append(try parseExpression())
            }
        }
        try expectOp(")")
        return arguments
    }

    private mutating func parseFilterChain(startInline: Bool) throws -> [TemplateFilterCall] {
        var filters: [TemplateFilterCall] = []
        var inline = startInline
        while isOp("|") || inline {
            if !inline { _ = advance() }
            inline = false
            let token = current
            var name = try expectName()
            while isOp(".") {
                _ = advance()
                name += "." + (try expectName())
            }
            let arguments = isOp("(") ? try parseCallArguments() : .none
            filters.append(TemplateFilterCall(name: name, arguments: arguments, position: token.position))
        }
        return filters
    }

    private mutating func parseTest(_ base: TemplateExpression) throws -> TemplateExpression {
        let token = advance()
        let negated = skipName("not")
        var name = try expectName()
        while isOp(".") {
            _ = advance()
            name += "." + (try expectName())
        }
        var arguments = TemplateArguments()
        if isOp("(") {
            arguments = try parseCallArguments()
        } else if !isName("else") && !isName("or") && !isName("and") {
            switch current.kind {
            case .name, .string, .integer, .float, .op("("), .op("["), .op("{"):
                if isName("is") { throw fail("you cannot chain multiple tests with 'is'") }
                arguments.positional = [try parsePostfix(try parsePrimary())]
            default:
                break
            }
        }
        return TemplateExpression(kind: .test(base, name: name, arguments, negated: negated), position: token.position)
    }
}
