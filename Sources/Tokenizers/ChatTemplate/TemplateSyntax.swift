/// The syntax tree of a parsed template. Every expression carries its source position so an evaluation error can
/// name the line and column that caused it.
struct TemplateExpression: Sendable {
    indirect enum Kind: Sendable {
        case literal(TemplateValue)
        case name(String)
        case list([TemplateExpression])
        case tuple([TemplateExpression])
        case dictionary([TemplateDictionaryEntry])
        /// `a.b`
        case attribute(TemplateExpression, String)
        /// `a[b]`
        case item(TemplateExpression, TemplateExpression)
        /// `a[start:stop:step]`
        case slice(TemplateExpression, start: TemplateExpression?, stop: TemplateExpression?, step: TemplateExpression?)
        case call(TemplateExpression, TemplateArguments)
        case filter(TemplateExpression, TemplateFilterCall)
        /// `a is [not] name(args)`
        case test(TemplateExpression, name: String, TemplateArguments, negated: Bool)
        case negate(TemplateExpression)
        case plus(TemplateExpression)
        case binary(TemplateBinaryOperator, TemplateExpression, TemplateExpression)
        /// A (possibly chained) comparison: `a < b <= c`.
        case compare(TemplateExpression, [TemplateComparison])
        case and(TemplateExpression, TemplateExpression)
        case or(TemplateExpression, TemplateExpression)
        case not(TemplateExpression)
        /// `a ~ b ~ c`
        case concat([TemplateExpression])
        /// `then if test else otherwise`; without `else`, a false test yields undefined.
        case conditional(test: TemplateExpression, then: TemplateExpression, otherwise: TemplateExpression?)
    }

    var kind: Kind
    var position: TemplateSourcePosition
}

struct TemplateDictionaryEntry: Sendable {
    var key: TemplateExpression
    var value: TemplateExpression
}

struct TemplateComparison: Sendable {
    var op: TemplateCompareOperator
    var operand: TemplateExpression
}

enum TemplateBinaryOperator: String, Sendable {
    case add = "+", subtract = "-", multiply = "*", divide = "/", floorDivide = "//", modulo = "%", power = "**"
}

enum TemplateCompareOperator: String, Sendable {
    case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
    case contains = "in", notContains = "not in"
}

struct TemplateKeywordArgument: Sendable {
    var name: String
    var value: TemplateExpression
}

struct TemplateArguments: Sendable {
    var positional: [TemplateExpression] = []
    var keyword: [TemplateKeywordArgument] = []

    static let none = TemplateArguments()
}

struct TemplateFilterCall: Sendable {
    var name: String
    var arguments: TemplateArguments
    var position: TemplateSourcePosition
}

/// What `set`, `for` and `with` assign to.
indirect enum TemplateAssignTarget: Sendable {
    case name(String)
    case tuple([TemplateAssignTarget])
    /// `ns.attr`, only valid on a `namespace()` object.
    case namespaceAttribute(String, String)
}

struct TemplateMacroParameter: Sendable {
    var name: String
    var defaultValue: TemplateExpression?
}

struct TemplateMacro: Sendable {
    var name: String
    var parameters: [TemplateMacroParameter]
    var body: [TemplateNode]
    var position: TemplateSourcePosition
}

struct TemplateForLoop: Sendable {
    var target: TemplateAssignTarget
    var iterable: TemplateExpression
    /// `for x in xs if cond`: items failing the condition are skipped before `loop` counts them.
    var condition: TemplateExpression?
    var body: [TemplateNode]
    var elseBody: [TemplateNode]
    var position: TemplateSourcePosition
}

struct TemplateBranch: Sendable {
    var test: TemplateExpression
    var body: [TemplateNode]
}

struct TemplateWithAssignment: Sendable {
    var target: TemplateAssignTarget
    var value: TemplateExpression
}

indirect enum TemplateNode: Sendable {
    case text(String)
    case output(TemplateExpression)
    case conditional([TemplateBranch], otherwise: [TemplateNode])
    case forLoop(TemplateForLoop)
    case assign(TemplateAssignTarget, TemplateExpression, TemplateSourcePosition)
    /// `{% set x %}...{% endset %}`, optionally piped through filters.
    case assignBlock(TemplateAssignTarget, filters: [TemplateFilterCall], body: [TemplateNode], TemplateSourcePosition)
    case macro(TemplateMacro)
    /// `{% call macro(args) %}body{% endcall %}`: the body becomes `caller()` inside the macro.
    case callBlock(call: TemplateExpression, caller: TemplateMacro)
    case filterBlock(filters: [TemplateFilterCall], body: [TemplateNode], TemplateSourcePosition)
    case with([TemplateWithAssignment], body: [TemplateNode])
    case loopControl(isBreak: Bool, TemplateSourcePosition)
    /// A plain scope that renders its body: `{% generation %}` (transformers' assistant-mask marker) and
    /// `{% autoescape %}` (autoescaping is off for chat templates).
    case scope([TemplateNode])
}
