/// Rejects unknown filter and test names when the template is parsed, where Jinja2 rejects them when it compiles.
///
/// Jinja defers the check to render time inside `{% if %}` statements and `a if b else c` expressions (its "soft"
/// frames) so a template can guard optional features; a name there only fails if that branch runs. Loops, macros and
/// other scopes nested in a soft frame are checked strictly again, as Jinja's inner frames are.
enum TemplateValidator {
    /// Jinja2 3.1's builtin filters plus `tojson`, which transformers replaces.
    static let knownFilters: Set<String> = [
        "abs", "attr", "batch", "capitalize", "center", "count", "d", "default", "dictsort", "e", "escape",
        "filesizeformat", "first", "float", "forceescape", "format", "groupby", "indent", "int", "items", "join",
        "last", "length", "list", "lower", "map", "max", "min", "pprint", "random", "reject", "rejectattr", "replace",
        "reverse", "round", "safe", "select", "selectattr", "slice", "sort", "string", "striptags", "sum", "title",
        "tojson", "trim", "truncate", "unique", "upper", "urlencode", "urlize", "wordcount", "wordwrap", "xmlattr",
    ]

    /// Jinja2 3.1's builtin tests.
    static let knownTests: Set<String> = [
        "boolean", "callable", "defined", "divisibleby", "eq", "equalto", "escaped", "even", "false", "filter",
        "float", "ge", "greaterthan", "gt", "in", "integer", "iterable", "le", "lessthan", "lower", "lt", "mapping",
        "ne", "none", "number", "odd", "sameas", "sequence", "string", "test", "true", "undefined", "upper", "==",
        "!=", ">", ">=", "<", "<=",
    ]

    static func validate(_ nodes: [TemplateNode]) throws {
        for node in nodes { try check(node, soft: false) }
    }

    private static func failure(_ message: String, _ position: TemplateSourcePosition) -> ChatTemplateError {
        ChatTemplateError(kind: .syntax, line: position.line, column: position.column, message: message)
    }

    private static func check(_ filter: TemplateFilterCall, soft: Bool) throws {
        if !soft && !knownFilters.contains(filter.name) {
            throw failure("unknown filter '\(filter.name)'", filter.position)
        }
        try check(filter.arguments, soft: soft)
    }

    private static func check(_ arguments: TemplateArguments, soft: Bool) throws {
        for argument in arguments.positional { try check(argument, soft: soft) }
        for argument in arguments.keyword { try check(argument.value, soft: soft) }
    }

    private static func check(_ node: TemplateNode, soft: Bool) throws {
        switch node {
        case .text, .loopControl:
            break
        case .output(let expression):
            try check(expression, soft: soft)
        case .conditional(let branches, let otherwise):
            for branch in branches {
                try check(branch.test, soft: true)
                for child in branch.body { try check(child, soft: true) }
            }
            for child in otherwise { try check(child, soft: true) }
        case .forLoop(let loop):
            try check(loop.iterable, soft: soft)
            if let condition = loop.condition { try check(condition, soft: false) }
            for child in loop.body + loop.elseBody { try check(child, soft: false) }
        case .assign(_, let expression, _):
            try check(expression, soft: soft)
        case .assignBlock(_, let filters, let body, _):
            for filter in filters { try check(filter, soft: soft) }
            for child in body { try check(child, soft: false) }
        case .macro(let macro):
            try check(macro, soft: soft)
        case .callBlock(let call, let caller):
            try check(call, soft: soft)
            try check(caller, soft: soft)
        case .filterBlock(let filters, let body, _):
            for filter in filters { try check(filter, soft: soft) }
            for child in body { try check(child, soft: false) }
        case .with(let assignments, let body):
            for assignment in assignments { try check(assignment.value, soft: soft) }
            for child in body { try check(child, soft: false) }
        case .scope(let body):
            for child in body { try check(child, soft: false) }
        }
    }

    private static func check(_ macro: TemplateMacro, soft: Bool) throws {
        for parameter in macro.parameters {
            if let value = parameter.defaultValue { try check(value, soft: soft) }
        }
        for child in macro.body { try check(child, soft: false) }
    }

    private static func check(_ expression: TemplateExpression, soft: Bool) throws {
        switch expression.kind {
        case .literal, .name:
            break
        case .list(let items), .tuple(let items), .concat(let items):
            for item in items { try check(item, soft: soft) }
        case .dictionary(let entries):
            for entry in entries {
                try check(entry.key, soft: soft)
                try check(entry.value, soft: soft)
            }
        case .attribute(let base, _), .negate(let base), .plus(let base), .not(let base):
            try check(base, soft: soft)
        case .item(let base, let key):
            try check(base, soft: soft)
            try check(key, soft: soft)
        case .slice(let base, let start, let stop, let step):
            try check(base, soft: soft)
            for part in [start, stop, step].compactMap({ $0 }) { try check(part, soft: soft) }
        case .call(let callee, let arguments):
            try check(callee, soft: soft)
            try check(arguments, soft: soft)
        case .filter(let base, let filter):
            try check(base, soft: soft)
            try check(filter, soft: soft)
        case .test(let base, let name, let arguments, _):
            if !soft && !knownTests.contains(name) {
                throw failure("unknown test '\(name)'", expression.position)
            }
            try check(base, soft: soft)
            try check(arguments, soft: soft)
        case .binary(_, let left, let right), .and(let left, let right), .or(let left, let right):
            try check(left, soft: soft)
            try check(right, soft: soft)
        case .compare(let left, let comparisons):
            try check(left, soft: soft)
            for comparison in comparisons { try check(comparison.operand, soft: soft) }
        case .conditional(let test, let then, let otherwise):
            try check(test, soft: true)
            try check(then, soft: true)
            if let otherwise { try check(otherwise, soft: true) }
        }
    }
}
